from tests.kernel_cases.status import *  # noqa: F403
