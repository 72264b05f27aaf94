"""`omc-dev run` with no -s and no configured service: the service whose code is here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.compose.model import parse_config
from devtools.container.choose import candidates_label, choose_service

ROOT = Path("/src/shop")


def _built(context: str, *mounts: tuple[str, str]) -> dict[str, Any]:
    return {
        "build": {"context": str(ROOT / context), "dockerfile": "Dockerfile"},
        "volumes": [{"type": "bind", "source": str(ROOT / s), "target": t} for s, t in mounts],
    }


# Shaped like a full-stack template's resolved config: two services build the backend folder
# (the API and its one-shot migration step), two build the frontend folder, plus a database.
DOC = {
    "name": "shop-main",
    "services": {
        "db": {"image": "postgres:17"},
        "migrate": _built("api"),
        "api": _built("api", ("api/app", "/srv/app")),
        "web": _built("web"),
        "browser-tests": _built("web", ("web/tests", "/tests")),
    },
}


def _choose(cwd: str) -> str | None:
    chosen = choose_service(parse_config(DOC), ROOT / cwd, ROOT)
    return chosen.name if chosen is not None else None


@pytest.mark.parametrize(
    ("cwd", "expected"),
    [
        ("api", "api"),  # two build it: the one named like the folder
        ("api/app/models", "api"),  # a deeper folder: the nearest folder name that settles it
        ("api/tests", "api"),
        ("web/src", "web"),
        ("web/tests", "browser-tests"),  # web builds it, but the runner mounts this very folder
    ],
)
def test_the_service_whose_code_is_here_runs_the_command(cwd: str, expected: str) -> None:
    assert _choose(cwd) == expected


def test_from_the_root_no_service_is_guessed_and_every_buildable_one_is_offered() -> None:
    assert _choose(".") is None
    assert candidates_label(parse_config(DOC), ROOT) == "migrate, api, web, browser-tests"


def test_several_here_and_none_named_like_the_folder_asks_offering_only_those() -> None:
    doc = {
        "name": "x",
        "services": {"web": _built("web"), "migrate": _built("api"), "server": _built("api")},
    }
    project = parse_config(doc)
    assert choose_service(project, ROOT / "api", ROOT) is None
    assert candidates_label(project, ROOT / "api") == "migrate, server"


def test_a_folder_named_like_a_service_outside_its_code_does_not_pick_it() -> None:
    assert _choose("docs/api") is None


def test_the_only_buildable_service_is_chosen_from_anywhere() -> None:
    doc = {"name": "x", "services": {"db": {"image": "postgres"}, "app": _built(".")}}
    chosen = choose_service(parse_config(doc), Path("/elsewhere"), ROOT)
    assert chosen is not None and chosen.name == "app"


def test_one_service_mounting_the_folder_is_chosen_though_others_build() -> None:
    doc = {
        "name": "x",
        "services": {
            "worker": _built("jobs"),
            "api": _built("api"),
            "tools": {
                "image": "python:3.12",
                "volumes": [
                    {"type": "bind", "source": str(ROOT / "scripts"), "target": "/scripts"}
                ],
            },
        },
    }
    chosen = choose_service(parse_config(doc), ROOT / "scripts", ROOT)
    assert chosen is not None and chosen.name == "tools"


def test_when_every_service_builds_from_the_root_the_folder_name_decides() -> None:
    # Newer template shape: context "." with a per-service dockerfile path.
    doc = {
        "name": "x",
        "services": {name: _built(".") for name in ("prestart", "backend", "frontend")},
    }
    project = parse_config(doc)
    picked = choose_service(project, ROOT / "backend" / "app", ROOT)
    assert picked is not None and picked.name == "backend"
    # The checkout's own folder name says nothing, even when a service shares it.
    assert choose_service(project, Path("/src/backend"), Path("/src/backend")) is None


def test_nothing_is_offered_when_no_service_builds_or_mounts_code() -> None:
    doc = {"name": "x", "services": {"db": {"image": "postgres"}}}
    assert candidates_label(parse_config(doc), ROOT) == ""


def test_with_the_root_as_context_the_dockerfile_folder_says_whose_code_it_is() -> None:
    # Newer template shape: both build the root, with their Dockerfiles in their own folders.
    def at_root(dockerfile: str) -> dict[str, Any]:
        return {"build": {"context": str(ROOT), "dockerfile": dockerfile}}

    doc = {
        "name": "x",
        "services": {
            "api": at_root("api/Dockerfile"),
            "e2e": at_root("web/Dockerfile.e2e"),
            "tools": at_root("Dockerfile.tools"),
        },
    }
    project = parse_config(doc)
    picked = choose_service(project, ROOT / "web" / "src", ROOT)
    assert picked is not None and picked.name == "e2e"
    picked = choose_service(project, ROOT / "api", ROOT)
    assert picked is not None and picked.name == "api"
    # a folder no Dockerfile lives in: every service building the root may be meant
    assert choose_service(project, ROOT / "scripts", ROOT) is None
    assert candidates_label(project, ROOT / "scripts") == "api, e2e, tools"
