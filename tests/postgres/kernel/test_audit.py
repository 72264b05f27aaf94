from tests.kernel_cases.audit import *  # noqa: F403
