from tests.kernel_cases.desk import *  # noqa: F403
