from tests.kernel_cases.killswitch import *  # noqa: F403
