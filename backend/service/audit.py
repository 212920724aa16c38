"""Auditing the evidence store against the chain: every record rebuilt from events alone.

The chain is the reference and the store is what is audited. Nothing here writes.
The audit follows this checklist, streaming window by window of blocks (events) and
page by page of rows (store), so that a large ledger never sits in memory whole:

1. Rebuild the key registry from the SealKeyAdded and SealKeyRevoked events, and the
   agency names from AgencyRegistered.
2. For each NoticeAnchored event, in chain order:
   a. its indexed key, process and digest are those of its own sealed fields, and its
      block hash is the hash of the chain's block at that height;
   b. its seal recovers, under this chain's and this ledger's EIP-712 domain, to the
      signer it names, and that signer was a seal key of the event's agency at that
      point of the chain (between the events that added and revoked it);
   c. the record rebuilt from it equals the contract's record under its key;
   d. the store's receipt for its digest is the receipt rebuilt from the event, column
      by column and field by field, and the store's notice and outbox rows for it name
      the same (ocid, release id, stage).
3. Each receipt that names a block without an event for its digest there (or a block
   outside the ledger's life) must at least be of a digest the chain holds.
4. Each stored notice's exact bytes, at its JSON pointer, still digest to the notice
   row's digest, and each document's bytes still hash to the key it is stored under.
5. Each outbox row marked anchored or final is on chain: the ledger holds its
   (ocid, release id) with its digest.
6. Each batch this store anchored has a manifest; each manifest re-hashes
   (``merkle.member_leaf`` per leaf, in order) to its root, its size is the size the
   BatchAnchored event states, each leaf's key is the key of its (ocid, release id),
   and its root is on chain once its outbox row says so.

Discrepancies found in steps 2a to 2c mean the chain (or the node answering for it)
contradicts itself: nothing it says about the store can be trusted until that is
explained. The others are store rows that no longer say what the chain says.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import requests

from backend.chain.ledger import LOG_CHUNK_BLOCKS, Ledger
from backend.core.digest import release_digest
from backend.core.jsontext import parse_json
from backend.core.merkle import member_tree
from backend.core.pointer import PointerError, resolve_pointer
from backend.core.receipt import RECEIPT_FORMAT, check_receipt_offline, hex32, receipt_of_event
from backend.core.records import AnchoredEvent, LedgerRecord, SealKeyTenure
from backend.core.seal import SealError, notice_key, notice_signer, ocid_hash
from backend.core.stages import Stage
from backend.errors import NetworkError, TenderledgerError
from backend.store import EvidenceStore, scan
from backend.store.manifests import ManifestStore
from backend.store.scan import NoticeRowView, OutboxRowView, ReceiptRowView
from backend.store.states import OPEN_STATUSES, SETTLED_STATUSES, WorkKind

CHUNK = 256
"""Events or rows per contract call (``recordsByKey``, ``recordsByDigest``)."""
WINDOW_BLOCKS = LOG_CHUNK_BLOCKS
"""Blocks whose events are read, and compared with the store, at a time."""
IN_FLIGHT_STATUSES = OPEN_STATUSES


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


# ---------------------------------------------------------------- step 1: the key registry


def key_registry(ledger: Ledger) -> dict[str, SealKeyTenure]:
    """Every seal key's tenure, from SealKeyAdded and SealKeyRevoked events alone."""
    return ledger.seal_key_tenures()


# ---------------------------------------------------------------- step 2: records from events


@dataclass(frozen=True, slots=True)
class RebuiltRecord:
    """A notice record rebuilt from its NoticeAnchored event, with what the chain's own checks found."""

    event: AnchoredEvent
    timestamp: int
    agency_name: str | None
    problems: tuple[Discrepancy, ...]

    @property
    def digest(self) -> bytes:
        return self.event.digest

    @property
    def position(self) -> str:
        return f"{hex32(self.event.tx_hash)}:{self.event.log_index}"

    def ledger_record(self) -> LedgerRecord:
        """The record as the contract's views should return it."""
        event = self.event
        return LedgerRecord(
            digest=event.digest,
            signer=event.signer,
            agency=event.agency,
            block_number=event.block_number,
            timestamp=self.timestamp,
            stage=Stage(event.fields.stage),
        )

    def receipt(self, *, chain_id: int, ledger: str) -> dict[str, Any]:
        """The receipt the store should hold for this notice."""
        return receipt_of_event(
            self.event,
            chain_id=chain_id,
            ledger=ledger,
            agency_name=self.agency_name,
            block_timestamp=self.timestamp,
        )


class Rebuilder:
    """Turns NoticeAnchored events into records, checking each against the chain's rules."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.chain_id = ledger.deployment.chain_id
        self.keys = key_registry(ledger)
        self.agency_names = ledger.agency_names()
        self._headers: dict[int, tuple[bytes, int]] = {}

    def windows(self, *, head: int) -> Iterator[tuple[int, int, list[AnchoredEvent]]]:
        """(first block, last block, events) from the deployment block to ``head``."""
        for low in range(self.ledger.deployment.block_number, head + 1, WINDOW_BLOCKS):
            high = min(low + WINDOW_BLOCKS - 1, head)
            self._headers.clear()  # block headers are cached within a window only
            yield low, high, list(self.ledger.notice_events(from_block=low, to_block=high))

    def rebuild(self, event: AnchoredEvent) -> RebuiltRecord:
        """Steps 2a and 2b for one event."""
        if event.block_number not in self._headers:
            self._headers[event.block_number] = self.ledger.block_header(event.block_number)
        block_hash, timestamp = self._headers[event.block_number]
        position = f"{hex32(event.tx_hash)}:{event.log_index}"
        problems: list[Discrepancy] = []

        def problem(code: AuditCode, name: str, expected: Any, detail: str) -> None:
            # The event is the chain's own statement: there is no store side to it.
            problems.append(Discrepancy(code, "events", position, name, None, expected, detail))

        fields = event.fields
        own = {
            "key": (event.key, notice_key(fields.ocid, fields.release_id)),
            "ocidHash": (event.ocid_hash, ocid_hash(fields.ocid)),
            "digest": (event.digest, fields.digest),
            "blockHash": (event.block_hash, block_hash),
        }
        for name, (stated, expected) in own.items():
            if stated != expected:
                problem(
                    AuditCode.EVENT_INCONSISTENT,
                    name,
                    hex32(expected),
                    f"the event says {hex32(stated)}, its own fields (or the block) give {hex32(expected)}",
                )
        try:
            recovered = notice_signer(
                fields, event.seal, chain_id=self.chain_id, contract=self.ledger.address
            )
        except SealError as exc:
            problem(AuditCode.EVENT_SEAL_INVALID, "seal", event.signer, f"the seal is unusable: {exc}")
        else:
            if recovered != event.signer:
                problem(
                    AuditCode.EVENT_SEAL_INVALID,
                    "signer",
                    event.signer,
                    f"the seal recovers to {recovered}, not to the signer {event.signer} the event names",
                )
        tenure = self.keys.get(event.signer)
        if tenure is None or tenure.agency != event.agency:
            problem(
                AuditCode.EVENT_SEAL_INVALID,
                "agency",
                event.agency,
                f"{event.signer} was never a seal key of agency {event.agency}",
            )
        elif not tenure.valid_at((event.block_number, event.log_index)):
            problem(
                AuditCode.EVENT_SEAL_INVALID,
                "signer",
                event.signer,
                f"{event.signer} was not an active seal key at block {event.block_number}",
            )
        return RebuiltRecord(event, timestamp, self.agency_names.get(event.agency), tuple(problems))


def chain_head(ledger: Ledger) -> int:
    """The number of the chain's latest block: what the audit reads up to."""
    try:
        return int(ledger.w3.eth.block_number)
    except requests.exceptions.ConnectionError as exc:
        raise NetworkError(f"cannot reach the chain: {exc}") from exc


def rebuild_records(ledger: Ledger, *, head: int | None = None) -> Iterator[RebuiltRecord]:
    """Every notice record, rebuilt from the chain's events alone, in chain order."""
    rebuilder = Rebuilder(ledger)
    last = chain_head(ledger) if head is None else head
    for _low, _high, events in rebuilder.windows(head=last):
        for event in events:
            yield rebuilder.rebuild(event)


# ---------------------------------------------------------------- comparing values


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _same(stated: Any, expected: Any) -> bool:
    """Equal, with hexadecimal text compared without regard to case."""
    if isinstance(stated, str) and isinstance(expected, str) and expected.startswith("0x"):
        return stated.lower() == expected.lower()
    return type(stated) is type(expected) and bool(stated == expected)


def _differences(stated: dict[str, Any], expected: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    for name in sorted(set(stated) | set(expected)):
        if not _same(stated.get(name), expected.get(name)):
            yield name, stated.get(name), expected.get(name)


def _where(record: RebuiltRecord) -> str:
    event = record.event
    return f"anchored in block {event.block_number}, tx {hex32(event.tx_hash)}"


# ---------------------------------------------------------------- the audit


class StoreAudit:
    """Audits one evidence store against the ledger; :meth:`run` yields discrepancies as found.

    ``complete`` says this store is the only one anchoring on this ledger, so every
    notice on chain must be in it; by default a notice on chain that the store has no
    trace of is counted as anchored elsewhere, not as a discrepancy.
    """

    def __init__(self, ledger: Ledger, store: EvidenceStore, *, complete: bool = False) -> None:
        self.ledger = ledger
        self.store = store
        self.complete = complete
        self.summary = AuditSummary()
        self.chain_id = ledger.deployment.chain_id

    def run(self) -> Iterator[Discrepancy]:
        for discrepancy in self._run():
            self.summary.codes[str(discrepancy.code)] += 1
            yield discrepancy

    def _run(self) -> Iterator[Discrepancy]:
        rebuilder = Rebuilder(self.ledger)
        head = chain_head(self.ledger)
        first = self.ledger.deployment.block_number
        for low, high, events in rebuilder.windows(head=head):
            seen: set[str] = set()
            for start in range(0, len(events), CHUNK):
                records = [rebuilder.rebuild(e) for e in events[start : start + CHUNK]]
                seen.update(r.digest.hex() for r in records)
                yield from self._check_records(records)
            unmatched = (r for r in scan.receipts_in_blocks(self.store, low, high) if r.digest not in seen)
            yield from self._check_unmatched_receipts(unmatched)
        yield from self._check_unmatched_receipts(scan.receipts_outside_blocks(self.store, first, head))
        yield from self._check_notice_bytes()
        yield from self._check_outbox()
        yield from self._check_manifests()

    # ------------------------------------------------------------ step 2c and 2d

    def _check_records(self, records: Sequence[RebuiltRecord]) -> Iterator[Discrepancy]:
        self.summary.events += len(records)
        for record in records:
            yield from record.problems
        on_contract = self.ledger.records_by_key([r.event.key for r in records])
        for record, held in zip(records, on_contract, strict=True):
            yield from self._compare_contract(record, held)
        digests = [r.digest.hex() for r in records]
        receipts = scan.receipts_by_digest(self.store, digests)
        notices = scan.notices_by_digest(self.store, digests)
        outbox = scan.outbox_by_subject(self.store, digests, kind="notice")
        for record in records:
            digest = record.digest.hex()
            receipt, notice, entry = receipts.get(digest), notices.get(digest), outbox.get(digest)
            if notice is not None:
                yield from self._compare_notice(record, notice)
            if entry is not None:
                yield from self._compare_outbox(record, entry)
            if receipt is not None:
                self.summary.receipts += 1
                yield from self._compare_receipt(record, receipt)
            elif entry is not None and entry.status in IN_FLIGHT_STATUSES:
                self.summary.in_flight += 1  # the dispatcher's recovery writes its receipt
            elif notice is not None or entry is not None:
                yield Discrepancy(AuditCode.RECEIPT_MISSING, "receipts", digest, "", None, _where(record))
            elif self.complete:
                yield Discrepancy(
                    AuditCode.NOT_IN_STORE,
                    "receipts",
                    digest,
                    "",
                    None,
                    f"{_where(record)}: {record.event.fields.ocid} / {record.event.fields.release_id}",
                )
            else:
                self.summary.elsewhere += 1

    def _compare_contract(self, record: RebuiltRecord, held: LedgerRecord | None) -> Iterator[Discrepancy]:
        rebuilt = record.ledger_record()
        if held is None:
            yield Discrepancy(
                AuditCode.RECORD_MISMATCH,
                "contract",
                record.position,
                "record",
                None,
                hex32(rebuilt.digest),
                "the contract holds no record under the key of this event",
            )
            return
        for name in ("digest", "signer", "agency", "block_number", "timestamp", "stage"):
            stated, expected = getattr(held, name), getattr(rebuilt, name)
            if stated != expected:
                shown = hex32(stated) if isinstance(stated, bytes) else stated
                yield Discrepancy(
                    AuditCode.RECORD_MISMATCH,
                    "contract",
                    record.position,
                    name,
                    None,
                    hex32(expected) if isinstance(expected, bytes) else expected,
                    f"the contract's recordsByKey says {shown}",
                )

    def _compare_receipt(self, record: RebuiltRecord, row: ReceiptRowView) -> Iterator[Discrepancy]:
        expected = record.receipt(chain_id=self.chain_id, ledger=self.ledger.address)
        columns = {
            "ocid": row.ocid,
            "release_id": row.release_id,
            "tx_hash": row.tx_hash,
            "block_number": row.block_number,
            "block_hash": row.block_hash,
        }
        expected_columns = {
            "ocid": expected["notice"]["ocid"],
            "release_id": expected["notice"]["release_id"],
            "tx_hash": expected["anchor"]["tx_hash"],
            "block_number": expected["anchor"]["block_number"],
            "block_hash": expected["anchor"]["block_hash"],
        }
        for name, stated, wanted in _differences(columns, expected_columns):
            yield Discrepancy(AuditCode.RECEIPT_MISMATCH, "receipts", row.digest, name, stated, wanted)
        body = _receipt_body(row)
        if body is None:
            yield Discrepancy(
                AuditCode.RECEIPT_UNREADABLE, "receipts", row.digest, "body", row.body[:200], None
            )
            return
        wanted_body = _flatten(expected)
        stated_body = _flatten(body)
        if wanted_body.get("seal.agency_name") is None:
            stated_body.pop(
                "seal.agency_name", None
            )  # the chain's agency name is unknown: nothing to compare
            wanted_body.pop("seal.agency_name", None)
        for name, stated, wanted in _differences(stated_body, wanted_body):
            yield Discrepancy(
                AuditCode.RECEIPT_MISMATCH, "receipts", row.digest, f"body.{name}", stated, wanted
            )

    def _compare_notice(self, record: RebuiltRecord, row: NoticeRowView) -> Iterator[Discrepancy]:
        fields = record.event.fields
        stated = {"ocid": row.ocid, "release_id": row.release_id, "stage": row.stage}
        wanted = {"ocid": fields.ocid, "release_id": fields.release_id, "stage": fields.stage}
        for name, value, expected in _differences(stated, wanted):
            yield Discrepancy(AuditCode.NOTICE_MISMATCH, "notices", row.digest, name, value, expected)

    def _compare_outbox(self, record: RebuiltRecord, row: OutboxRowView) -> Iterator[Discrepancy]:
        fields = record.event.fields
        stated = {"ocid": row.ocid, "release_id": row.release_id}
        wanted = {"ocid": fields.ocid, "release_id": fields.release_id}
        for name, value, expected in _differences(stated, wanted):
            yield Discrepancy(AuditCode.OUTBOX_MISMATCH, "outbox", str(row.id), name, value, expected)

    # ------------------------------------------------------------ step 3

    def _check_unmatched_receipts(self, rows: Iterable[ReceiptRowView]) -> Iterator[Discrepancy]:
        """Receipts with no event for their digest where they say: is their digest on chain at all?"""
        page: list[ReceiptRowView] = []
        for row in rows:
            page.append(row)
            if len(page) == CHUNK:
                yield from self._check_receipt_page(page)
                page = []
        if page:
            yield from self._check_receipt_page(page)

    def _check_receipt_page(self, rows: Sequence[ReceiptRowView]) -> Iterator[Discrepancy]:
        batch_rows = [r for r in rows if r.batch_root]
        notice_rows = [r for r in rows if not r.batch_root]
        for row in batch_rows:
            self.summary.receipts += 1
            yield from self._check_batch_receipt(row)
        held = self.ledger.records_by_digest([bytes.fromhex(r.digest) for r in notice_rows])
        for row, record in zip(notice_rows, held, strict=True):
            if record is None:
                self.summary.receipts += 1
                yield Discrepancy(
                    AuditCode.RECEIPT_NOT_ON_CHAIN,
                    "receipts",
                    row.digest,
                    "digest",
                    f"anchored in block {row.block_number}, tx {row.tx_hash}",
                    None,
                    "the chain holds no notice with this digest",
                )
            # Otherwise the digest is on chain elsewhere: its event's window compared this row.

    def _check_batch_receipt(self, row: ReceiptRowView) -> Iterator[Discrepancy]:
        """A batch member's receipt: its proof and seal check, and its root is on chain where it says."""
        body = _receipt_body(row)
        if body is None or not body.get("batch"):
            yield Discrepancy(
                AuditCode.RECEIPT_UNREADABLE, "receipts", row.digest, "body", row.body[:200], None
            )
            return
        try:
            problems = check_receipt_offline(body, digest=bytes.fromhex(row.digest))
            root = bytes.fromhex(str(body["batch"]["root"]).removeprefix("0x"))
        except (KeyError, TypeError, ValueError, TenderledgerError) as exc:
            problems, root = [f"unreadable batch receipt: {exc}"], b""
        for problem in problems:
            yield Discrepancy(AuditCode.RECEIPT_MISMATCH, "receipts", row.digest, "batch", problem, None)
        record = self.ledger.batch_record(root) if len(root) == 32 else None
        if record is None:
            yield Discrepancy(
                AuditCode.RECEIPT_NOT_ON_CHAIN,
                "receipts",
                row.digest,
                "batch.root",
                body["batch"].get("root"),
                None,
                "the chain holds no batch with this root",
            )
        elif record.block_number != row.block_number:
            yield Discrepancy(
                AuditCode.RECEIPT_MISMATCH,
                "receipts",
                row.digest,
                "block_number",
                row.block_number,
                record.block_number,
            )

    # ------------------------------------------------------------ step 4

    def _check_notice_bytes(self) -> Iterator[Discrepancy]:
        """Each notice row's stored bytes still digest to its digest (one document in memory at a time)."""
        current: str | None = None
        data: bytes | None = None
        parsed: Any = None
        for row in scan.notices_by_document(self.store):
            self.summary.notices += 1
            if row.document_sha256 != current:
                current, parsed = row.document_sha256, None
                data = scan.document_data(self.store, current)
                if data is not None:
                    self.summary.documents += 1
                    actual = hashlib.sha256(data).hexdigest()
                    if actual != current:
                        yield Discrepancy(
                            AuditCode.DOCUMENT_ALTERED, "documents", current, "data", actual, None
                        )
            if data is None:
                yield Discrepancy(
                    AuditCode.DOCUMENT_MISSING,
                    "notices",
                    row.digest,
                    "document_sha256",
                    row.document_sha256,
                    None,
                )
                continue
            if row.stage == Stage.DOCUMENT:
                actual_digest = hashlib.sha256(data).hexdigest()
            else:
                if parsed is None:
                    parsed = _parse(data)
                actual_digest = _release_digest_at(parsed, row.pointer)
            if row.canonical is not None and hashlib.sha256(row.canonical).hexdigest() != row.digest:
                actual_digest = f"canonical bytes digest to {hashlib.sha256(row.canonical).hexdigest()}"
            if actual_digest != row.digest:
                yield Discrepancy(
                    AuditCode.NOTICE_BYTES_ALTERED,
                    "notices",
                    row.digest,
                    "digest",
                    row.digest,
                    self._chain_digest(row.ocid, row.release_id),
                    f"the stored bytes (document {row.document_sha256}, at {row.pointer or '/'}) "
                    f"give {actual_digest}; the chain's digest is of ({row.ocid}, {row.release_id})",
                )

    def _chain_digest(self, ocid: str, release_id: str) -> str | None:
        record = self.ledger.record_by_key(notice_key(ocid, release_id))
        return None if record is None else record.digest.hex()

    # ------------------------------------------------------------ step 5

    def _check_outbox(self) -> Iterator[Discrepancy]:
        page: list[OutboxRowView] = []
        for row in scan.outbox_rows(self.store, statuses=SETTLED_STATUSES):
            page.append(row)
            if len(page) == CHUNK:
                yield from self._check_outbox_page(page)
                page = []
        if page:
            yield from self._check_outbox_page(page)

    def _check_outbox_page(self, rows: Sequence[OutboxRowView]) -> Iterator[Discrepancy]:
        self.summary.outbox += len(rows)
        notices = [r for r in rows if r.kind == "notice"]
        held = self.ledger.records_by_key([notice_key(r.ocid, r.release_id) for r in notices])
        for row, record in zip(notices, held, strict=True):
            if record is None or record.digest.hex() != row.subject:
                yield Discrepancy(
                    AuditCode.OUTBOX_NOT_ON_CHAIN,
                    "outbox",
                    str(row.id),
                    "status",
                    f"{row.status}: {row.subject}",
                    None if record is None else f"another digest: {record.digest.hex()}",
                    f"the chain holds {'nothing' if record is None else 'another digest'} "
                    f"under ({row.ocid}, {row.release_id})",
                )
        for row in (r for r in rows if r.kind != "notice"):
            if self.ledger.batch_record(bytes.fromhex(row.subject)) is None:
                yield Discrepancy(
                    AuditCode.OUTBOX_NOT_ON_CHAIN, "outbox", str(row.id), "status", row.status, None
                )

    # ---------------------------------------------------------------- reading stored bytes

    # ------------------------------------------------------------ step 6

    def _check_manifests(self) -> Iterator[Discrepancy]:
        """Each settled batch has a manifest, each manifest hashes to its root, and the root is on chain."""
        manifests = ManifestStore(self.store)
        roots = manifests.roots()
        settled = {
            subject
            for subject, row in scan.outbox_by_subject(
                self.store, [r.hex() for r in roots], kind="batch"
            ).items()
            if row.status in SETTLED_STATUSES
        }
        kept = {r.hex() for r in roots}
        for row in scan.outbox_rows(self.store, statuses=SETTLED_STATUSES):
            if row.kind == WorkKind.BATCH and row.subject not in kept:
                yield Discrepancy(
                    AuditCode.MANIFEST_MISSING, "batch_members", "0x" + row.subject, "root", None, None
                )
        for root in roots:
            members = manifests.manifest(root)
            self.summary.manifests += 1
            computed = (
                member_tree((m.ocid, m.release_id, m.digest) for m in members).root if members else None
            )
            where = "0x" + root.hex()
            if [m.leaf_index for m in members] != list(range(len(members))):
                yield Discrepancy(
                    AuditCode.MANIFEST_MISMATCH, "batch_members", where, "leaf_index", None, None
                )
            for m in members:
                if m.key != notice_key(m.ocid, m.release_id):
                    yield Discrepancy(
                        AuditCode.MANIFEST_MISMATCH,
                        "batch_members",
                        f"{where}#{m.leaf_index}",
                        "notice_key",
                        hex32(m.key),
                        hex32(notice_key(m.ocid, m.release_id)),
                    )
            if computed != root:
                yield Discrepancy(
                    AuditCode.MANIFEST_MISMATCH,
                    "batch_members",
                    where,
                    "root",
                    hex32(computed) if computed else None,
                    where,
                    "the manifest's leaves do not hash to its root",
                )
            events = self.ledger.batch_events(root)
            if not events:
                if root.hex() in settled:
                    yield Discrepancy(
                        AuditCode.MANIFEST_NOT_ON_CHAIN, "batch_members", where, "root", where, None
                    )
            elif events[0].size != len(members):
                yield Discrepancy(
                    AuditCode.MANIFEST_MISMATCH, "batch_members", where, "size", len(members), events[0].size
                )


def _receipt_body(row: ReceiptRowView) -> dict[str, Any] | None:
    try:
        body = json.loads(row.body)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("format") != RECEIPT_FORMAT:
        return None
    return body


class _Unreadable:
    """A stored document that no longer parses as strict JSON."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parse(data: bytes) -> Any:
    try:
        return parse_json(data)
    except TenderledgerError as error:
        return _Unreadable(error.message)


def _release_digest_at(document: Any, pointer: str) -> str:
    """The digest of the release at ``pointer`` (RFC 6901) in ``document``, or why there is none."""
    if isinstance(document, _Unreadable):
        return f"unreadable: {document.reason}"
    try:
        value = resolve_pointer(document, pointer)
    except PointerError:
        return f"no release at {pointer}"
    try:
        return release_digest(value).hex()
    except TenderledgerError as error:
        return f"not canonicalizable: {error.message}"


__all__ = [
    "CHAIN_CODES",
    "MEANINGS",
    "AuditCode",
    "AuditSummary",
    "Discrepancy",
    "Rebuilder",
    "RebuiltRecord",
    "StoreAudit",
    "key_registry",
    "rebuild_records",
]
