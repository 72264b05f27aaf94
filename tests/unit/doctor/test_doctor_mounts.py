from __future__ import annotations

from pathlib import Path

from devtools.compose.model import ComposeProject, Mount, Service
from devtools.doctor.mounts import findings_for, missing_mounts, volumes_line
from devtools.findings import Severity

COMPOSE = """\
services:
  db:
    image: postgres
  backend:
    build: .
    # source folders
    volumes:
      - ./kernel:/app/kernel
      - ./tests:/app/tests
"""


def tree(root: Path, *folders: str) -> None:
    for folder in folders:
        (root / folder).mkdir(parents=True)


def backend(root: Path, *mounted: str, read_only: bool = False) -> Service:
    binds = [Mount("bind", str(root / m), f"/app/{m}", read_only=read_only) for m in mounted]
    return Service(
        "backend", build_context=root, volumes=(*binds, Mount("volume", "cache", "/root/.cache"))
    )


def test_a_sibling_left_out_is_reported_with_the_line_to_add(tmp_path: Path) -> None:
    tree(tmp_path, "kernel", "tests", "scripts", ".git", "__pycache__", "pkg.egg-info", "docs")
    (tmp_path / "README.md").write_text("files are not folders\n")
    gaps = missing_mounts(backend(tmp_path, "kernel", "tests"), tmp_path, ignore_globs=["docs"])
    assert [(g.folder.name, g.volume_line) for g in gaps] == [("scripts", "./scripts:/app/scripts")]
    assert {s.name for s in gaps[0].siblings} == {"kernel", "tests"}


def test_read_only_siblings_give_a_read_only_line(tmp_path: Path) -> None:
    tree(tmp_path, "kernel", "scripts")
    gaps = missing_mounts(backend(tmp_path, "kernel", read_only=True), tmp_path)
    assert [g.volume_line for g in gaps] == ["./scripts:/app/scripts:ro"]


def test_nothing_to_report(tmp_path: Path) -> None:
    tree(tmp_path, "kernel", "tests", "scripts", "src/app", "src/lib")
    # every sibling mounted
    assert missing_mounts(backend(tmp_path, "kernel", "tests", "scripts", "src"), tmp_path) == []
    # the whole context mounted
    whole = Service(
        "backend", build_context=tmp_path, volumes=(Mount("bind", str(tmp_path), "/app"),)
    )
    assert missing_mounts(whole, tmp_path) == []
    # no folder mounted at all: no sibling to compare with
    assert missing_mounts(backend(tmp_path), tmp_path) == []
    # git-ignored folders are not source
    ignored = lambda paths: {p for p in paths if p.name == "scripts"}  # noqa: E731
    assert (
        missing_mounts(backend(tmp_path, "kernel", "tests", "src"), tmp_path, ignored=ignored) == []
    )


def test_nested_mounts_compare_with_their_own_siblings(tmp_path: Path) -> None:
    tree(tmp_path, "src/app", "src/lib", "src/gen", "kernel")
    service = Service(
        "backend",
        build_context=tmp_path,
        volumes=(
            Mount("bind", str(tmp_path / "src/app"), "/srv/src/app"),
            Mount("bind", str(tmp_path / "src/lib"), "/srv/src/lib"),
        ),
    )
    gaps = missing_mounts(service, tmp_path)
    assert [(g.folder.name, g.volume_line) for g in gaps] == [("gen", "./src/gen:/srv/src/gen")]


def test_findings_point_at_the_volumes_line(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    tree(tmp_path, "kernel", "tests", "scripts")
    project = ComposeProject(
        "p", tmp_path, (compose,), {"backend": backend(tmp_path, "kernel", "tests")}, {}, {}
    )
    (finding,) = findings_for(project, missing_mounts(project.services["backend"], tmp_path))
    assert finding.id == "mount-missing" and finding.severity is Severity.WARNING
    assert (finding.path, finding.line) == (str(compose), 7)
    assert "scripts/ is not bind-mounted while kernel/, tests/ are" in finding.message
    assert finding.fix == "add `- ./scripts:/app/scripts` to services.backend.volumes"
    assert volumes_line(compose, "db") == 2  # no volumes key: the service's own line
    assert volumes_line(compose, "nosuch") is None
