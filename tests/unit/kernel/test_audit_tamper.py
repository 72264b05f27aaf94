from tests.kernel_cases.audit_tamper import *  # noqa: F403
