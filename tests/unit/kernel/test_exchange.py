from tests.kernel_cases.exchange import *  # noqa: F403
