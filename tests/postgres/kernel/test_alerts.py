from tests.kernel_cases.alerts import *  # noqa: F403
