"""Failures an operator can act on. `str(error)` is the whole message: what is wrong, what to do.

The kernel stands alone: it knows nothing of exit codes or of the CLI that runs it. The CLI maps
these classes to its exit codes (devtools.kernel_cli.errors); a service maps them to responses.
"""

from __future__ import annotations


class KernelError(Exception):
    """A failure the operator can fix (a request that does not apply, such as resetting a switch
    that is not tripped)."""


class UnusableInput(KernelError):
    """A value, file, URL or argument the kernel cannot work with."""


class EnvironmentMissing(KernelError):
    """Something the kernel needs is not there: the database, its schema, a server."""


class Refused(KernelError):
    """The database refused the operation (a constraint, a permission)."""
