"""Verify's object model (GitPython, through `gitmodel`), imported while git works.

Importing GitPython costs about half of the `git diff` verify must run, so
`preload_object_model` imports it in a thread while the first git calls run (waiting on a
process frees the GIL), and `object_model` waits for that import when the model is needed.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from types import ModuleType

from devtools.errors import EnvironmentMissing

_OBJECT_MODEL = "devtools.verify.gitmodel"
_preloading: list[threading.Thread] = []  # the import's thread, once started


def _import_object_model() -> None:
    # A failure is left for object_model(), which imports again and raises it in its thread.
    with contextlib.suppress(Exception):
        importlib.import_module(_OBJECT_MODEL)


def preload_object_model() -> None:
    """Start importing GitPython (through `gitmodel`) in a thread; the first git calls run
    meanwhile, and the import takes the GIL only while they are waited on."""
    if not _preloading and _OBJECT_MODEL not in sys.modules:
        thread = threading.Thread(target=_import_object_model, name="import-gitpython")
        thread.start()
        _preloading.append(thread)


def object_model() -> ModuleType:
    """`devtools.verify.gitmodel`, once its import (started or not) is complete."""
    for thread in _preloading:
        thread.join()
    try:
        return importlib.import_module(_OBJECT_MODEL)
    except ImportError as exc:  # GitPython is missing, or found no git to run
        raise EnvironmentMissing(
            f"GitPython cannot be loaded ({exc}): pip install 'omc-dev[verify]' and install git"
        ) from None
