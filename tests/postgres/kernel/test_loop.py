from tests.kernel_cases.loop import *  # noqa: F403
