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
    # concise: pre-commit gives hooks a terminal when it colours its own output, and
    # hook users expect `path:line: id message`; a --format in the hook's args comes later: it wins.
    return cli_main(["migrations", "lint", "--select", "index", "--format", "concise", *args])


if __name__ == "__main__":
    sys.exit(main())
