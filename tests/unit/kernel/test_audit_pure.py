"""The audit's pure parts: the hash function, and the CLI's copy of the action names."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from devtools.kernel_cli.audit import ACTIONS
from kernel.audit import canonical, record_hash
from kernel.models import AuditAction

maybe_text = st.none() | st.text()


def test_the_cli_offers_exactly_the_kernels_audit_actions() -> None:
    # `omc-dev kernel audit` spells them out so that its --help does not import the kernel's models.
    assert tuple(AuditAction) == ACTIONS


# record_hash spells the canonical JSON out by hand: it must stay byte-equal to canonical().
@given(
    created_at=st.datetimes(
        min_value=datetime(2000, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=10, minutes=30))]),
    ),
    fields=st.fixed_dictionaries(
        {
            "sequence": st.integers(min_value=1, max_value=2**62),
            "actor": st.text(),
            "action": st.text(),
            "symbol": maybe_text,
            "decision": maybe_text,
            "reason": maybe_text,
            "outcome": maybe_text,
            "inputs": st.text(),
            "prev_hash": st.text(),
        }
    ),
)
def test_record_hash_is_sha256_over_the_canonical_json_of_the_fields(
    created_at: datetime, fields: dict[str, Any]
) -> None:
    body = {**fields, "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds")}
    expected = hashlib.sha256(canonical(body).encode()).hexdigest()
    assert record_hash(created_at=created_at, **fields) == expected
