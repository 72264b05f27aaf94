from tests.kernel_cases.schema import *  # noqa: F403
