"""Test tiers and shared fixtures.

A test's tier is the first folder under tests/ (tests/unit, tests/postgres, tests/docker,
tests/network, tests/browser: a deeper folder such as tests/unit/docker/ is not the docker tier)
or an explicit marker, which wins: tests/kernel_db runs its cases on each database, the tier coming
from the database parameter. A test that creates the test user as root (it asks for `test_user`,
`as_test_user` or `non_root`) is in the `root` tier instead of `unit` (docker and postgres keep
theirs and add `root`). A test with no tier fails, saying so.
A tier that cannot run here skips with the reason, unless OMC_REQUIRE_DOCKER=1 /
OMC_REQUIRE_POSTGRES=1 / OMC_REQUIRE_NETWORK=1 / OMC_REQUIRE_BROWSER=1 / OMC_REQUIRE_ROOT=1 says it
must run: then it fails. The network tier (tests/network) pip-installs into fresh virtualenvs, so
it needs a reachable package index; the browser tier (tests/browser) drives Debian's chromium
headless through chromium-driver.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.docker import ComposeStack
from tests.fixtures.fullstack import make_fullstack
from tests.fixtures.git import GitRepo, make_repo
from tests.fixtures.postgres import PgCluster, running_cluster
from tests.fixtures.tiers import (
    browser_unavailable,
    docker_unavailable,
    network_unavailable,
    postgres_unavailable,
    required,
    root_unavailable,
)
from tests.fixtures.userenv import UserEnv, user_env
from tests.fixtures.users import TestUser, ensure_test_user
from tests.fixtures.webhook import WebhookServer

# Never collected here: sample projects that tests run in containers (some fail on purpose),
# and fixture projects holding their own tests (a user's backend/tests).
collect_ignore_glob = ["fixtures/data/*", "fixtures/stacks/*"]

TIERS = ("unit", "postgres", "docker", "network", "browser", "root")
PROBES: dict[str, Callable[[], str | None]] = {
    "docker": docker_unavailable,
    "postgres": postgres_unavailable,
    "network": network_unavailable,
    "browser": browser_unavailable,
    "root": root_unavailable,
}
TESTS = Path(__file__).resolve().parent
# Fixtures that create the non-root test user (useradd) when the session runs as root.
ROOT_FIXTURES = {"test_user", "as_test_user", "non_root"}


def folder_tier(path: Path) -> str | None:
    """The tier a test file's folder names: the first folder under tests/ only."""
    try:
        first = path.resolve().relative_to(TESTS).parts[0]
    except (ValueError, IndexError):
        return None
    return first if first in TIERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    untiered: list[pytest.Item] = []
    for item in items:
        if ROOT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.root)
        if any(item.get_closest_marker(tier) for tier in TIERS if tier != "root"):
            continue  # an explicit tier wins over the folder
        tier = folder_tier(Path(str(item.path)))
        if tier == "unit" and item.get_closest_marker("root"):
            continue  # it creates users: not "runs anywhere"
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))
        elif not item.get_closest_marker("root"):
            untiered.append(item)
    # Each such test fails with the reason, rather than collection stopping: under pytest-xdist
    # a stop in a worker reaches the user as an INTERNALERROR naming an unrelated test.
    for item in untiered:
        item.add_marker(pytest.mark.untiered)


UNTIERED = "has no tier: put it under tests/<tier>/ or mark it with one of " + ", ".join(TIERS)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("untiered"):
        pytest.fail(f"{item.nodeid} {UNTIERED}", pytrace=False)
    for tier, probe in PROBES.items():
        if item.get_closest_marker(tier):
            reason = probe()
            if reason is None:
                continue
            if required(tier):
                pytest.fail(f"{tier} tier required but unavailable: {reason}", pytrace=False)
            pytest.skip(f"{tier} tier unavailable: {reason}")


@pytest.fixture(scope="session", autouse=True)
def omc_state_dir() -> Iterator[Path]:
    """A private state dir (port registry) for the session: tests never touch the user's own."""
    path = Path(tempfile.mkdtemp(prefix="omc-state-"))
    saved = os.environ.get("OMC_STATE_DIR")
    os.environ["OMC_STATE_DIR"] = str(path)
    try:
        yield path
    finally:
        if saved is None:
            os.environ.pop("OMC_STATE_DIR", None)
        else:
            os.environ["OMC_STATE_DIR"] = saved
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own port registry (OMC_STATE_DIR), also seen by `omc(...)` subprocesses."""
    path = tmp_path / "state"
    monkeypatch.setenv("OMC_STATE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty database on the session's cluster (SQLAlchemy URL, psycopg 3 driver)."""
    with pg_cluster.database() as url:
        yield url


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """A clone on `main` with one pushed commit, and its bare origin."""
    return make_repo(tmp_path)


@pytest.fixture
def fullstack(tmp_path: Path) -> GitRepo:
    """The full-stack fixture project (tests/fixtures/fullstack.py) in a fresh git checkout."""
    return make_fullstack(tmp_path)


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def test_user() -> TestUser:
    """A non-root user in the docker group (created once when running as root)."""
    return ensure_test_user(docker_group=True)


@pytest.fixture(scope="session")
def as_test_user(test_user: TestUser) -> Iterator[UserEnv]:
    """Run omc-dev (and any command) as the non-root test user, from a copy it can read."""
    with user_env(test_user) as env:
        yield env


@pytest.fixture
def compose_stack() -> Iterator[Callable[..., ComposeStack]]:
    """Factory for compose stacks with unique project names; every one is torn down (`down -v`)."""
    stacks: list[ComposeStack] = []

    def make(directory: Path, *files: str, project: str | None = None) -> ComposeStack:
        stack = (
            ComposeStack(directory, files=files)
            if project is None
            else ComposeStack(directory, project, files)
        )
        stacks.append(stack)
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            stack.down()
