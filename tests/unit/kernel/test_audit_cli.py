"""`omc-dev kernel audit show|verify|anchor` end to end: keys from the environment or a key file,
the anchor file, rotation, and the one-line failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel.anchor import read_anchors
from tests.fixtures.cli import omc
from tests.fixtures.kernel import migrated, tamper_all

K1, K2 = "k1:" + "1" * 40, "k2:" + "2" * 40


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kernel.db'}"
    with migrated(url):
        pass
    return url


def trade(url: str, env: dict[str, str], ticks: str = "80") -> None:
    proc = omc("kernel", "run", "--db", url, "--ticks", ticks, "--seed", "4", env=env)
    assert proc.returncode == 0, proc.stderr
    trip = omc("killswitch", "trip", "--db", url, "--by", "ops", "--reason", "drill", env=env)
    assert trip.returncode == 0, trip.stderr
    reset = omc("killswitch", "reset", "--db", url, "--by", "ops", "--reason", "done", env=env)
    assert reset.returncode == 0, reset.stderr


def verify_json(url: str, env: dict[str, str], *extra: str) -> dict[str, object]:
    proc = omc("kernel", "audit", "verify", "--db", url, "--format", "json", *extra, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    return doc


def test_a_keyed_anchored_chain_verifies_and_a_cut_tail_is_named(url: str, tmp_path: Path) -> None:
    keyfile = tmp_path / "audit.key"
    keyfile.write_text(f"# the audit keyring\n{K1}\n")
    anchors = tmp_path / "witness" / "anchors.jsonl"
    env = {"OMC_AUDIT_KEY_FILE": str(keyfile), "OMC_AUDIT_ANCHOR_FILE": str(anchors)}
    trade(url, env)

    anchored = omc("kernel", "audit", "anchor", "--db", url, env=env)
    assert anchored.returncode == 0, anchored.stderr
    assert "signed with key k1" in anchored.stdout
    [anchor] = read_anchors(anchors)
    assert anchor.key_id == "k1" and anchor.sequence > 2

    ok = omc("kernel", "audit", "verify", "--db", url, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"audit chain intact: {anchor.sequence} records" in ok.stdout
    assert "authenticated: MACs checked (keys used: k1)" in ok.stdout
    assert f"the last at record {anchor.sequence}" in ok.stdout

    # The tail is cut and the head moved back: the chain alone is consistent.
    keep = anchor.sequence - 2
    with migrated(url) as db:
        with db.read() as s:
            from kernel.models import AuditRecord

            kept = s.get(AuditRecord, keep)
            assert kept is not None
            kept_hash = kept.hash
        tamper_all(
            db,
            [
                ("DELETE FROM audit_records WHERE sequence > :k", {"k": keep}),
                ("UPDATE audit_head SET sequence = :k, hash = :h", {"k": keep, "h": kept_hash}),
            ],
        )
    for argv in (("kernel", "audit", "verify"), ("audit", "--verify")):
        broken = omc(*argv, "--db", url, env=env)
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert f"broken at record {keep + 1}" in broken.stdout
        assert "records were removed from the end" in broken.stdout
    doc = verify_json(url, env)
    assert doc["first_broken"] == {
        "sequence": keep + 1,
        "problem": "truncated",
        "detail": doc["first_broken"]["detail"],  # type: ignore[index]
    }
    # A broken chain is not anchored: the witness keeps what it saw.
    refused = omc("kernel", "audit", "anchor", "--db", url, env=env)
    assert refused.returncode == 1 and "not anchored" in refused.stdout
    assert len(read_anchors(anchors)) == 1


def test_without_a_key_verify_passes_and_says_the_records_are_not_authenticated(
    url: str,
) -> None:
    trade(url, {}, ticks="30")
    proc = omc("kernel", "audit", "verify", "--db", url)
    assert proc.returncode == 0, proc.stderr
    assert "not authenticated: no audit key configured" in proc.stdout
    assert "not anchored: no anchor file" in proc.stdout
    doc = verify_json(url, {})
    assert doc["verified"] is True and doc["authenticated"] is False
    assert doc["unsigned_records"] == doc["records"]


def test_rotation_adds_a_key_and_old_records_keep_verifying(url: str, tmp_path: Path) -> None:
    keyfile = tmp_path / "audit.key"
    keyfile.write_text(K1 + "\n")
    env = {"OMC_AUDIT_KEY_FILE": str(keyfile)}
    trade(url, env, ticks="40")
    keyfile.write_text(f"{K1}\n{K2}\n")  # k2 signs from now on; k1 stays to verify
    trade(url, env, ticks="40")
    doc = verify_json(url, env)
    assert doc["verified"] is True and doc["key_ids"] == ["k1", "k2"]
    # The same keyring inline, from the environment.
    assert verify_json(url, {"OMC_AUDIT_KEY": f"{K1} {K2}"})["verified"] is True
    # Retiring k1 too early: its records are named, with what to do.
    retired = verify_json(url, {"OMC_AUDIT_KEY": K2})
    assert retired["first_broken"]["problem"] == "unknown_key"  # type: ignore[index]
    assert retired["first_broken"]["sequence"] == 1  # type: ignore[index]


def test_show_lists_like_the_top_level_audit(url: str) -> None:
    trade(url, {}, ticks="30")
    top = omc("audit", "--db", url, "--format", "json", "--limit", "3")
    grouped = omc("kernel", "audit", "show", "--db", url, "--format", "json", "--limit", "3")
    assert top.returncode == grouped.returncode == 0, top.stderr + grouped.stderr
    assert json.loads(top.stdout) == json.loads(grouped.stdout)
    assert len(json.loads(grouped.stdout)["records"]) == 3


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (("anchor",), {}, "no anchor file: pass --anchor-file PATH"),
        (("verify",), {"OMC_AUDIT_KEY": "k1:short"}, "shorter than 16 characters"),
        (("verify",), {"OMC_AUDIT_KEY": "no-colon-here-at-all"}, "expected ID:SECRET"),
        (("verify",), {"OMC_AUDIT_KEY": K1, "OMC_AUDIT_KEY_FILE": "/x"}, "set one"),
        (("verify",), {"OMC_AUDIT_KEY_FILE": "/nonexistent/audit.key"}, "cannot be read"),
        (("verify",), {"OMC_AUDIT_KEY": f"{K1} {K1}"}, "listed twice"),
    ],
    ids=["no-anchor-file", "short-secret", "no-id", "both-set", "missing-file", "duplicate-id"],
)
def test_bad_key_or_anchor_settings_are_one_line_exit_2(
    url: str, argv: tuple[str, ...], env: dict[str, str], says: str
) -> None:
    proc = omc("kernel", "audit", *argv, "--db", url, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr
    assert "1" * 40 not in proc.stderr  # a secret is never echoed


def test_a_malformed_anchor_file_is_one_line_exit_2(url: str, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text('{"sequence": 1}\n')
    proc = omc("kernel", "audit", "verify", "--db", url, "--anchor-file", str(anchors))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "line 1 is not an anchor" in proc.stderr
