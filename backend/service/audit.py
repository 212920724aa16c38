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
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from backend.chain.ledger import Ledger
from backend.core.digest import release_digest
from backend.core.jsontext import parse_json
from backend.core.merkle import member_tree
from backend.core.pointer import PointerError, resolve_pointer
from backend.core.receipt import RECEIPT_FORMAT, check_receipt_offline, hex32
from backend.core.records import LedgerRecord
from backend.core.seal import notice_key
from backend.core.stages import Stage
from backend.errors import TenderledgerError
from backend.service.findings import (
    CHAIN_CODES,
    MEANINGS,
    AuditCode,
    AuditSummary,
    Discrepancy,
    differences,
    flatten,
)
from backend.service.rebuild import Rebuilder, RebuiltRecord, key_registry, rebuild_records
from backend.store import EvidenceStore, scan
from backend.store.manifests import ManifestStore
from backend.store.outbox import OPEN_STATUSES, SETTLED_STATUSES, WorkKind
from backend.store.scan import NoticeRowView, OutboxRowView, ReceiptRowView

CHUNK = 256
"""Events or rows per contract call (``recordsByKey``, ``recordsByDigest``)."""
IN_FLIGHT_STATUSES = OPEN_STATUSES


# ---------------------------------------------------------------- the audit


def _where(record: RebuiltRecord) -> str:
    event = record.event
    return f"anchored in block {event.block_number}, tx {hex32(event.tx_hash)}"


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
        head = self.ledger.head()
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
            "ocid": expected.fields.ocid,
            "release_id": expected.fields.release_id,
            "tx_hash": expected.anchor.tx_hash,
            "block_number": expected.anchor.block_number,
            "block_hash": expected.anchor.block_hash,
        }
        for name, stated, wanted in differences(columns, expected_columns):
            yield Discrepancy(AuditCode.RECEIPT_MISMATCH, "receipts", row.digest, name, stated, wanted)
        body = _receipt_body(row)
        if body is None:
            yield Discrepancy(
                AuditCode.RECEIPT_UNREADABLE, "receipts", row.digest, "body", row.body[:200], None
            )
            return
        wanted_body = flatten(expected.to_json())
        stated_body = flatten(body)
        if wanted_body.get("seal.agency_name") is None:
            stated_body.pop(
                "seal.agency_name", None
            )  # the chain's agency name is unknown: nothing to compare
            wanted_body.pop("seal.agency_name", None)
        for name, stated, wanted in differences(stated_body, wanted_body):
            yield Discrepancy(
                AuditCode.RECEIPT_MISMATCH, "receipts", row.digest, f"body.{name}", stated, wanted
            )

    def _compare_notice(self, record: RebuiltRecord, row: NoticeRowView) -> Iterator[Discrepancy]:
        fields = record.event.fields
        stated = {"ocid": row.ocid, "release_id": row.release_id, "stage": row.stage}
        wanted = {"ocid": fields.ocid, "release_id": fields.release_id, "stage": fields.stage}
        for name, value, expected in differences(stated, wanted):
            yield Discrepancy(AuditCode.NOTICE_MISMATCH, "notices", row.digest, name, value, expected)

    def _compare_outbox(self, record: RebuiltRecord, row: OutboxRowView) -> Iterator[Discrepancy]:
        fields = record.event.fields
        stated = {"ocid": row.ocid, "release_id": row.release_id}
        wanted = {"ocid": fields.ocid, "release_id": fields.release_id}
        for name, value, expected in differences(stated, wanted):
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
