"""What an audit of the evidence store can find: the codes, one discrepancy, the summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AuditCode(StrEnum):
    """What kind of discrepancy was found. The chain's own checks come first."""

    EVENT_INCONSISTENT = "event_inconsistent"
    EVENT_SEAL_INVALID = "event_seal_invalid"
    RECORD_MISMATCH = "record_mismatch"
    RECEIPT_MISMATCH = "receipt_mismatch"
    RECEIPT_UNREADABLE = "receipt_unreadable"
    RECEIPT_NOT_ON_CHAIN = "receipt_not_on_chain"
    RECEIPT_MISSING = "receipt_missing"
    NOT_IN_STORE = "not_in_store"
    NOTICE_MISMATCH = "notice_mismatch"
    NOTICE_BYTES_ALTERED = "notice_bytes_altered"
    DOCUMENT_ALTERED = "document_altered"
    DOCUMENT_MISSING = "document_missing"
    OUTBOX_MISMATCH = "outbox_mismatch"
    OUTBOX_NOT_ON_CHAIN = "outbox_not_on_chain"
    MANIFEST_MISMATCH = "manifest_mismatch"
    MANIFEST_NOT_ON_CHAIN = "manifest_not_on_chain"
    MANIFEST_MISSING = "manifest_missing"


MEANINGS: dict[AuditCode, str] = {
    AuditCode.EVENT_INCONSISTENT: "a NoticeAnchored event contradicts its own fields or the chain's block",
    AuditCode.EVENT_SEAL_INVALID: "the seal in an event does not recover to a key of its agency valid then",
    AuditCode.RECORD_MISMATCH: "the contract's record differs from the one rebuilt from its event",
    AuditCode.RECEIPT_MISMATCH: "a receipt says something else than the chain",
    AuditCode.RECEIPT_UNREADABLE: "a receipt's body is not a receipt",
    AuditCode.RECEIPT_NOT_ON_CHAIN: "a receipt names a digest the chain does not hold",
    AuditCode.RECEIPT_MISSING: "the chain holds a notice the store knows, without its receipt",
    AuditCode.NOT_IN_STORE: "the chain holds a notice the store knows nothing of (--complete)",
    AuditCode.NOTICE_MISMATCH: "a notice row names another ocid, release id or stage than the chain",
    AuditCode.NOTICE_BYTES_ALTERED: "a notice's stored bytes no longer digest to its digest",
    AuditCode.DOCUMENT_ALTERED: "a document's stored bytes no longer hash to its key",
    AuditCode.DOCUMENT_MISSING: "a notice row points at a document the store does not have",
    AuditCode.OUTBOX_MISMATCH: "an outbox row names another ocid or release id than the chain",
    AuditCode.OUTBOX_NOT_ON_CHAIN: "an outbox row marked anchored or final is not on chain",
    AuditCode.MANIFEST_MISMATCH: "a batch manifest does not hash to its root, or states another size",
    AuditCode.MANIFEST_NOT_ON_CHAIN: "a batch manifest whose outbox row is settled has no root on chain",
    AuditCode.MANIFEST_MISSING: "a batch this store anchored (its outbox row is settled) has no manifest",
}

CHAIN_CODES = frozenset(
    {AuditCode.EVENT_INCONSISTENT, AuditCode.EVENT_SEAL_INVALID, AuditCode.RECORD_MISMATCH}
)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One thing the store (or the chain, for the chain's own checks) gets wrong.

    ``table`` and ``row`` name what was audited: a store table and the row's key, or
    ``events``/``contract`` and the event's transaction and log index. ``store`` is
    what that row says of ``field``; ``chain`` is what the chain's events say.
    """

    code: AuditCode
    table: str
    row: str
    field: str
    store: Any
    chain: Any
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "table": self.table,
            "row": self.row,
            "field": self.field,
            "store": self.store,
            "chain": self.chain,
            "detail": self.detail or MEANINGS[self.code],
        }


@dataclass
class AuditSummary:
    """What the audit looked at, and what it found."""

    events: int = 0
    receipts: int = 0
    notices: int = 0
    documents: int = 0
    outbox: int = 0
    elsewhere: int = 0  # notices on chain this store has no trace of (another instance anchored them)
    in_flight: int = 0  # notices on chain whose outbox row still waits for its receipt
    manifests: int = 0  # batch manifests re-hashed against their roots
    codes: Counter[str] = field(default_factory=Counter)

    @property
    def discrepancies(self) -> int:
        return sum(self.codes.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "receipts": self.receipts,
            "notices": self.notices,
            "documents": self.documents,
            "outbox": self.outbox,
            "elsewhere": self.elsewhere,
            "in_flight": self.in_flight,
            "manifests": self.manifests,
            "discrepancies": self.discrepancies,
            "codes": dict(sorted(self.codes.items())),
        }


# ---------------------------------------------------------------- comparing values


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def same(stated: Any, expected: Any) -> bool:
    """Equal, with hexadecimal text compared without regard to case."""
    if isinstance(stated, str) and isinstance(expected, str) and expected.startswith("0x"):
        return stated.lower() == expected.lower()
    return type(stated) is type(expected) and bool(stated == expected)


def differences(stated: dict[str, Any], expected: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    for name in sorted(set(stated) | set(expected)):
        if not same(stated.get(name), expected.get(name)):
            yield name, stated.get(name), expected.get(name)
