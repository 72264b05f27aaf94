"""Messages name the user's compose files, never omc-dev's own ports override."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.compose.model import parse_config
from devtools.errors import UnusableInput


def test_an_unknown_service_names_only_the_projects_compose_files() -> None:
    files = (Path("/src/shop/compose.yml"), Path("/src/shop/.omc/tracks/main.ports.yaml"))
    project = parse_config({"services": {"backend": {"image": "x"}}}, files=files)
    with pytest.raises(UnusableInput) as caught:
        project.service("api")
    assert str(caught.value) == "no service 'api' in compose.yml (services: backend)"
