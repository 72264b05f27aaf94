from tests.kernel_cases.concurrency import *  # noqa: F403
