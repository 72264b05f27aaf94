from __future__ import annotations

from pathlib import Path

import pytest

from devtools.compose.model import parse_config
from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.stack.ops import reset_plan

DOC = {
    "name": "omc-main",
    "services": {
        "db": {
            "image": "omc-db:15",
            "volumes": [
                {"type": "volume", "source": "dbdata", "target": "/var/lib/postgresql/data"},
                {"type": "bind", "source": "/src/init", "target": "/init"},
            ],
        },
        "migrate": {"image": "omc-backend:dev"},
        "store": {"image": "x", "volumes": [{"type": "tmpfs", "target": "/tmp"}]},
    },
    "volumes": {"dbdata": {"name": "omc-main_dbdata"}},
}


def test_plan_names_the_services_and_the_engine_volume() -> None:
    plan = reset_plan(ProjectConfig(Path("/src")), parse_config(DOC))
    assert (plan.project, plan.db_service, plan.migrate_service, plan.volumes) == (
        "omc-main",
        "db",
        "migrate",
        ("omc-main_dbdata",),
    )
    steps = plan.steps()
    assert len(steps) == 4 and "delete volume omc-main_dbdata" in steps[1]


def test_configured_names_are_checked() -> None:
    cfg = ProjectConfig(Path("/src"), {"db": {"service": "postgres"}}, Path("/src/pyproject.toml"))
    with pytest.raises(
        UnusableInput, match=r"no service 'postgres' .* set service in \[tool.omc-dev.db\]"
    ):
        reset_plan(cfg, parse_config(DOC))
    cfg = ProjectConfig(Path("/src"), {"db": {"service": "store"}})
    with pytest.raises(UnusableInput, match="no named volume"):
        reset_plan(cfg, parse_config(DOC))
