"""Every exit code omc-dev returns, in one place (the README's table is tested against it)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # checks ran and found errors (or verification failed)
EXIT_USAGE = 2  # unusable input: bad flags, malformed files, a declined confirmation
EXIT_INTERNAL = 70  # a bug in omc-dev (EX_SOFTWARE)
EXIT_ENVIRONMENT = 125  # the environment is not there: no engine, no compose file, ...
EXIT_INTERRUPTED = 130  # Ctrl-C

# Declining a confirmation (a "no" typed at the terminal, or no terminal to ask and no --yes)
# is one outcome: nothing was changed because the go-ahead was not given.
EXIT_DECLINED = EXIT_USAGE

# The README's table: code -> meaning, in the README's words.
MEANINGS: dict[int, str] = {
    EXIT_OK: "ok, nothing found",
    EXIT_FINDINGS: "checks ran and found errors (verification failed)",
    EXIT_USAGE: "unusable input: bad flags, a malformed file, a declined confirmation",
    EXIT_INTERNAL: "a bug in omc-dev (rerun with `OMC_DEBUG=1` for the traceback)",
    EXIT_ENVIRONMENT: "the environment is not there: no engine, no compose file, service not running",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}
