"""Result sets under `.omc/tests/results/`, one file per (commit, track, pytest arguments).

`.omc/tests/latest` names the newest, which `baseline save` and `compare` read by default.
A RESULT on the command line is a stored result's name, a result file, or any JUnit XML file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

from devtools.atomic import write_atomic
from devtools.errors import UnusableInput
from devtools.testruns.junit import read_junit
from devtools.testruns.model import ResultSet

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def result_key(commit: str, track: str, args: Sequence[str]) -> str:
    digest = hashlib.sha256(json.dumps(list(args)).encode()).hexdigest()[:10]
    return f"{commit[:12]}-{_UNSAFE.sub('_', track)[:40]}-{digest}"


def save_result(store: Path, key: str, results: ResultSet) -> Path:
    folder = store / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    write_atomic(path, json.dumps(results.to_json(), ensure_ascii=False) + "\n")
    write_atomic(store / "latest", key + "\n")
    return path


def load_result(store: Path, spec: str | None) -> ResultSet:
    """`spec`: None or "latest" (the latest run), a stored result's name, a .json result or a
    JUnit .xml."""
    if spec == "latest" and not Path(spec).is_file():
        spec = None
    if spec is None:
        try:
            spec = (store / "latest").read_text().strip()
        except FileNotFoundError:
            raise UnusableInput(
                "no stored test run yet: run `omc-dev tests run` first, or name a JUnit XML file"
            ) from None
    path = Path(spec)
    if not path.is_file():
        stored = store / "results" / f"{spec}.json"
        if not stored.is_file():
            raise UnusableInput(
                f"{spec}: neither a file nor a stored result (see {store / 'results'})"
            )
        path = stored
    if path.suffix == ".xml":
        return read_junit(path)
    try:
        return ResultSet.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError):
        raise UnusableInput(
            f"{path}: not an omc-dev test result (corrupt or another format); "
            "pass a JUnit XML file or run `omc-dev tests run` again"
        ) from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None
