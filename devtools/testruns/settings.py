"""`[tool.omc-dev.tests]`: where the baseline lives, how pytest is started, in which service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput

DEFAULT_BASELINE = "tests-baseline.txt"
DEFAULT_COMMAND = ("python3", "-m", "pytest")


@dataclass(frozen=True)
class TestSettings:
    __test__ = False

    root: Path
    baseline: Path
    command: tuple[str, ...]
    service: str | None

    @property
    def store_dir(self) -> Path:
        return self.root / ".omc" / "tests"


def load_settings(cfg: ProjectConfig) -> TestSettings:
    table = cfg.section("tests")
    where = f"{cfg.pyproject}: [tool.omc-dev.tests]"
    baseline = table.get("baseline", DEFAULT_BASELINE)
    if not isinstance(baseline, str) or not baseline:
        raise UnusableInput(f"{where} baseline must be a path relative to the project root")
    command = table.get("command", list(DEFAULT_COMMAND))
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(a, str) and a for a in command)
    ):
        raise UnusableInput(
            f'{where} command must be a list of strings such as ["python3", "-m", "pytest"]'
        )
    service = table.get("service")
    if service is not None and not isinstance(service, str):
        raise UnusableInput(f"{where} service must be a service name")
    return TestSettings(cfg.root, cfg.root / baseline, tuple(command), service)
