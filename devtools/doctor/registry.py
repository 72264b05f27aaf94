"""The doctor's checks, in order. Each area contributes a module exposing `CHECKS`."""

from __future__ import annotations

import importlib

from devtools.doctor.model import DoctorCheck

CHECK_MODULES = (
    "devtools.doctor.engine",
    "devtools.doctor.mounts",
    "devtools.doctor.run_place",
    "devtools.doctor.environment",
    "devtools.doctor.track_env",
)


def all_checks() -> list[DoctorCheck]:
    checks: list[DoctorCheck] = []
    for name in CHECK_MODULES:
        checks.extend(importlib.import_module(name).CHECKS)
    return checks
