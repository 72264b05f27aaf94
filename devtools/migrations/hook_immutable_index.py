"""pre-commit hook `alembic-immutable-index`: indexes PostgreSQL would reject as not IMMUTABLE.

Arguments are those of `omc-dev migrations lint` (PATH, --pg-version N); column types come from
the whole history, so the hook takes no file names (`pass_filenames: false`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from devtools.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return cli_main(["migrations", "lint", "--select", "index", *args])


if __name__ == "__main__":
    sys.exit(main())
