"""`omc-dev kernel serve` as a process: where it binds, how it stops, a port in use."""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.request

from kernel.db import Database
from tests.fixtures.cli import cli_env, omc, omc_argv
from tests.fixtures.kernel import served_kernel


def test_it_binds_loopback_by_default_and_serves_the_dashboard(db: Database) -> None:
    with served_kernel(db.url) as api:
        assert api.base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(api.base + "/audit", timeout=10) as reply:
            assert reply.status == 200
            assert reply.headers["content-type"].startswith("text/html")
            assert "chain verified: no records yet" in reply.read().decode()
        with urllib.request.urlopen(api.base + "/static/live.js", timeout=10) as reply:
            assert b"/api/header" in reply.read()


def test_ctrl_c_ends_it_with_130_and_no_traceback(db: Database) -> None:
    proc = subprocess.Popen(
        omc_argv("kernel", "serve", "--db", db.url, "--port", "0"),
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        assert "kernel API on http://127.0.0.1:" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_port_in_use_is_one_line_and_exit_125(db: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = omc("kernel", "serve", "--db", db.url, "--port", str(port), timeout=60)
    assert proc.returncode == 125, proc.stderr
    assert proc.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in proc.stderr
