"""Migration lint on a generated history of 1,000 revisions.

1. `omc-dev migrations heads` against Alembic's own `ScriptDirectory.get_heads()`, each as a
   fresh process (what a developer or a pre-commit hook pays), interleaved, medians; the heads
   must be identical. Target: omc-dev >= 4x faster, on warm runs, as on a developer's machine
   after the first run: Alembic loads the `__pycache__` bytecode written by an untimed first
   run; omc-dev loads its parse cache (keyed by each file's digest, see
   devtools/migrations/cache.py). Cold runs are printed too: Alembic without the versions'
   `__pycache__`, omc-dev with OMC_NO_CACHE=1.
2. The full `omc-dev migrations lint` (graph rules, schema walk, every index judged) on the same
   history. Target: <= 1 s COLD, with OMC_NO_CACHE=1, which is what a fresh CI checkout and a
   first pre-commit run get; the warm run (parse cache filled) is printed too.

The machine may be shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._common import installed_omc_dev  # noqa: E402

TEMPLATE = '''"""{message}

Revision ID: {revision}
Revises: {down_text}
Create Date: 2024-01-01 00:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "{revision}"
down_revision: Union[str, Sequence[str], None] = {down}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''


def generate(folder: Path, count: int, seed: int = 7) -> None:
    """A realistic history: tables, columns, expression indexes, branches merged back."""
    rng = random.Random(seed)
    versions = folder / "versions"
    versions.mkdir(parents=True)
    tables: list[str] = []
    parent: str | None = None
    pending_branch: str | None = None
    for number in range(count):
        revision = f"{number:04d}{rng.getrandbits(32):08x}"
        down: tuple[str, ...] = (parent,) if parent else ()
        if pending_branch and number % 10 == 5:
            down = (*down, pending_branch)  # a merge revision
            pending_branch = None
        body = _body(rng, number, tables)
        down_literal = "None" if not down else repr(down[0]) if len(down) == 1 else repr(down)
        text = TEMPLATE.format(
            message=f"change {number}",
            revision=revision,
            down=down_literal,
            down_text=", ".join(down),
            body=body,
        )
        (versions / f"{revision}_change_{number}.py").write_text(text)
        if number % 10 == 2 and parent:
            # A side branch off the current parent, merged a few revisions later.
            side = f"{number:04d}{rng.getrandbits(32):08x}s"
            side_text = TEMPLATE.format(
                message=f"side {number}",
                revision=side,
                down=repr(parent),
                down_text=parent,
                body='    op.execute("SELECT 1")',
            )
            (versions / f"{side}_side_{number}.py").write_text(side_text)
            pending_branch = side
        parent = revision


def _body(rng: random.Random, number: int, tables: list[str]) -> str:
    if not tables or number % 5 == 0:
        table = f"t{number}"
        tables.append(table)
        return (
            f"    op.create_table(\n        {table!r},\n"
            '        sa.Column("id", sa.Integer(), nullable=False),\n'
            '        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),\n'
            '        sa.Column("email", sa.String(length=200), nullable=True),\n'
            '        sa.PrimaryKeyConstraint("id"),\n    )\n'
            f"    op.create_index(op.f('ix_{table}_day'), {table!r}, "
            "[sa.text(\"((created_at AT TIME ZONE 'UTC')::date)\")], unique=False)"
        )
    table = rng.choice(tables)
    choice = number % 3
    if choice == 0:
        return f"    op.add_column({table!r}, sa.Column('c{number}', sa.Numeric(12, 2), nullable=True))"
    if choice == 1:
        return (
            f"    op.create_index('ix_{table}_{number}', {table!r}, [sa.func.lower(sa.column('email'))], "
            "postgresql_where=sa.text('email IS NOT NULL'))"
        )
    return f"    op.execute(\"CREATE INDEX ix_{table}_{number}_e ON {table} ((lower(email) || '-x'))\")"


ALEMBIC_HEADS = (
    "import json, sys\n"
    "from alembic.script import ScriptDirectory\n"
    "print(json.dumps(ScriptDirectory(sys.argv[1]).get_heads()))\n"
)


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed, proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)

    omc = installed_omc_dev()
    # Warm means warm for both sides: Python may keep bytecode (some machines, this one included,
    # set PYTHONDONTWRITEBYTECODE, which would leave Alembic's "warm" anchor cold forever).
    warm_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="omc-bench-migrations-") as tmp:
        cache_env = {**warm_env, "OMC_CACHE_DIR": str(Path(tmp) / "cache")}
        cold_env = {**cache_env, "OMC_NO_CACHE": "1"}
        folder = Path(tmp) / "migrations"
        generate(folder, args.revisions)
        files = len(list((folder / "versions").glob("*.py")))
        ours = [omc, "migrations", "heads", str(folder), "--format", "json"]
        theirs = [sys.executable, "-c", ALEMBIC_HEADS, str(folder)]
        lint = [omc, "migrations", "lint", str(folder), "--format", "json"]
        _, our_out = run(ours, cache_env)  # also fills omc-dev's parse cache
        _, their_out = run(theirs, warm_env)  # also writes Alembic's bytecode cache
        our_heads, their_heads = json.loads(our_out)["heads"], json.loads(their_out)
        if our_heads != their_heads:
            print(f"heads differ: omc-dev {our_heads} vs Alembic {their_heads}", file=sys.stderr)
            return 1
        _, lint_out = run(lint, cache_env)
        report = json.loads(lint_out)
        load_before = os.getloadavg()[0]
        keys = ("ours", "theirs", "cold", "theirs_cold", "lint", "lint_cold")
        times: dict[str, list[float]] = {key: [] for key in keys}
        for _ in range(args.runs):  # interleaved, so drift hits every side alike
            times["ours"].append(run(ours, cache_env)[0])
            times["theirs"].append(run(theirs, warm_env)[0])
            times["cold"].append(run(ours, cold_env)[0])
            shutil.rmtree(folder / "versions" / "__pycache__", ignore_errors=True)
            times["theirs_cold"].append(run(theirs, warm_env)[0])
            times["lint"].append(run(lint, cache_env)[0])
            times["lint_cold"].append(run(lint, cold_env)[0])
    ours_m, theirs_m, cold_m, theirs_cold_m, lint_m, lint_cold_m = (
        statistics.median(times[key]) for key in keys
    )
    ratio = theirs_m / ours_m
    print(f"history: {files} revision files; heads {our_heads} (identical in both)")
    print(
        f"Alembic ScriptDirectory.get_heads(): median {theirs_m * 1000:.0f} ms over {args.runs} runs (anchor)"
    )
    print(f"omc-dev migrations heads:            median {ours_m * 1000:.0f} ms")
    verdict = "OK" if ratio >= 4 else "UNDER"
    print(f"ratio Alembic / omc-dev heads: {ratio:.1f}x faster (target >= 4.0) {verdict}")
    print(
        f"  cold: Alembic without bytecode {theirs_cold_m * 1000:.0f} ms, omc-dev without parse "
        f"cache {cold_m * 1000:.0f} ms: {theirs_cold_m / cold_m:.1f}x faster"
    )
    verdict = "OK" if lint_cold_m <= 1 else "OVER"
    print(
        f"omc-dev migrations lint (full, {len(report['findings'])} findings), cold (no parse cache): "
        f"median {lint_cold_m * 1000:.0f} ms = {lint_cold_m / theirs_cold_m:.2f}x Alembic's cold "
        f"get_heads() (target <= 1 s cold) {verdict}"
    )
    print(f"  warm (parse cache filled): median {lint_m * 1000:.0f} ms")
    print(
        f"load average (1 min): {load_before:.2f} before the runs, {os.getloadavg()[0]:.2f} after"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
