from tests.kernel_cases.web import *  # noqa: F403
