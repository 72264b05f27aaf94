from tests.kernel_cases.dashboard_data import *  # noqa: F403
