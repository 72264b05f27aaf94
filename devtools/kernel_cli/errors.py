"""The kernel's failures as omc-dev exit codes: the kernel itself knows nothing of exit codes."""

from __future__ import annotations

from devtools.errors import EXIT_ENVIRONMENT, EXIT_FINDINGS, EXIT_USAGE
from kernel.errors import EnvironmentMissing, KernelError, Refused


def kernel_exit_code(error: KernelError) -> int:
    if isinstance(error, EnvironmentMissing):
        return EXIT_ENVIRONMENT
    if isinstance(error, Refused):
        return EXIT_FINDINGS
    return EXIT_USAGE  # unusable input, or a request that does not apply
