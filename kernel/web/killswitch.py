"""/killswitch: the kill switch's timeline (placeholder: the dash-pages branch fills it in)."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
