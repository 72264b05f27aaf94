"""pre-commit hook `alembic-single-head`: the revision graph rules, read statically.

Arguments are those of `omc-dev migrations lint` (PATH, --base REF, --format); the whole
graph is needed, so the hook takes no file names (`pass_filenames: false`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from devtools.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # concise: pre-commit gives hooks a terminal when it colours its own output, and
    # hook users expect `path:line: id message`; a --format in the hook's args comes later: it wins.
    return cli_main(["migrations", "lint", "--select", "graph", "--format", "concise", *args])


if __name__ == "__main__":
    sys.exit(main())
