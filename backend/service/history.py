"""A process timeline from the chain, with the red flags an auditor looks for.

The timeline is public, and the ledger is shared by agencies that do not trust each
other. Besides the chain's notices it shows only the refused submissions of the
process's own agency (the one the chain binds the process to, or, before its first
notice, the one its ocid prefix is reserved for), known from the evidence store:
another agency's refused attempt on the process never appears there, nor changes its
red flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.chain.views import LedgerViews
from backend.core.jsontext import parse_json
from backend.core.notice import parse_notices
from backend.core.ocid import ocid_prefix
from backend.core.receipt import hex32
from backend.core.redflags import RedFlag, TimelineEntry, red_flags
from backend.core.seal import ocid_hash
from backend.core.stages import Stage
from backend.core.work import NoticeWork, work_of
from backend.service.context import Backend
from backend.store import EvidenceStore, OutboxEntry
from backend.store.outbox import OutboxStatus, WorkKind


@dataclass
class HistoryEntry:
    release_id: str
    stage: Stage
    digest: str
    block_number: int | None
    block_timestamp: int | None
    tx_hash: str | None
    agency: int | None
    agency_name: str | None
    signer: str | None
    deadline: int
    status: str  # "anchored", or "refused" for a notice the ledger refused (known from the evidence store)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id,
            "stage": self.stage.tag,
            "digest": self.digest,
            "status": self.status,
            "block_number": self.block_number,
            "block_timestamp": self.block_timestamp,
            "tx_hash": self.tx_hash,
            "agency": self.agency_name or self.agency,
            "signer": self.signer,
            "deadline": self.deadline or None,
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class ProcessHistory:
    ocid: str
    entries: list[HistoryEntry]
    flags: list[RedFlag]

    def to_json(self) -> dict[str, Any]:
        return {
            "ocid": self.ocid,
            "timeline": [e.to_json() for e in self.entries],
            "red_flags": [
                {
                    "code": str(f.code),
                    "severity": str(f.severity),
                    "release_id": f.release_id,
                    "message": f.message,
                }
                for f in self.flags
            ],
        }


def _stored_release(store: EvidenceStore | None, digest: bytes) -> Any | None:
    if store is None:
        return None
    source = store.notice_source(digest)
    if source is None:
        return None
    data, _pointer = source
    try:
        parsed = parse_notices(parse_json(data), source="stored")
    except Exception:
        return None
    for notice in parsed.notices:
        if notice.digest == digest:
            return notice
    return None


def process_history(backend: Backend, ocid: str, *, store: EvidenceStore | None) -> ProcessHistory:
    """The timeline of ``ocid`` in ledger order, enriched from the evidence store when present."""
    ledger = backend.views
    names = ledger.agency_names()
    entries: list[HistoryEntry] = []
    timeline: list[TimelineEntry] = []
    block_times: dict[int, int] = {}
    for event in ledger.notice_events(ocid_hash=ocid_hash(ocid)):
        if event.block_number not in block_times:
            block_times[event.block_number] = ledger.block_header(event.block_number)[1]
        when = block_times[event.block_number]
        stage = Stage(event.fields.stage)
        entries.append(
            HistoryEntry(
                release_id=event.fields.release_id,
                stage=stage,
                digest=hex32(event.digest),
                block_number=event.block_number,
                block_timestamp=when,
                tx_hash=hex32(event.tx_hash),
                agency=event.agency,
                agency_name=names.get(event.agency),
                signer=event.signer,
                deadline=event.fields.deadline,
                status="anchored",
            )
        )
        notice = _stored_release(store, event.digest)
        if notice is not None:
            timeline.append(TimelineEntry.from_notice(notice, anchored_at=when))
        else:
            timeline.append(
                TimelineEntry(
                    release_id=event.fields.release_id,
                    stage=stage,
                    published_at=None,
                    deadline=event.fields.deadline or None,
                    anchored_at=when,
                    in_batch=False,
                    digest=event.digest,
                )
            )
    if store is not None:
        owner, refusals = _own_refusals(ledger, store, ocid)
        for entry in refusals:
            item = work_of(entry.kind, entry.payload)
            assert isinstance(item, NoticeWork)  # refusals of batch roots are not a process's
            fields = item.fields
            stage = Stage(fields.stage)
            entries.append(
                HistoryEntry(
                    release_id=entry.release_id,
                    stage=stage,
                    digest=hex32(fields.digest),
                    block_number=None,
                    block_timestamp=None,
                    tx_hash=None,
                    agency=owner,
                    agency_name=names.get(owner),
                    signer=None,
                    deadline=fields.deadline,
                    status="refused",
                    error=entry.error_name,
                )
            )
            notice = _stored_release(store, bytes.fromhex(entry.subject))
            if notice is not None:
                timeline.append(TimelineEntry.from_notice(notice, anchored_at=None))
    return ProcessHistory(ocid=ocid, entries=entries, flags=red_flags(timeline))


def process_owner(ledger: LedgerViews, ocid: str) -> int:
    """The agency a process belongs to: the one the chain bound it to, else the one its ocid prefix
    is reserved for; 0 when neither."""
    bound = ledger.process(ocid_hash(ocid)).agency
    if bound:
        return bound
    prefix = ocid_prefix(ocid)
    if prefix is None:
        return 0
    try:
        return ledger.prefix_owner(prefix)
    except ValueError:  # not a prefix that can be reserved: nobody owns it
        return 0


def _own_refusals(ledger: LedgerViews, store: EvidenceStore, ocid: str) -> tuple[int, list[OutboxEntry]]:
    """The process's agency, and the refused submissions of ``ocid`` sealed with a key the chain
    assigns to it."""
    refused = [
        e for e in store.outbox(statuses=(OutboxStatus.REFUSED,), kind=WorkKind.NOTICE) if e.ocid == ocid
    ]
    if not refused:
        return 0, []
    owner = process_owner(ledger, ocid)
    if not owner:
        return 0, []
    key_agencies: dict[str, int] = {}
    own = []
    for entry in refused:
        signer = work_of(entry.kind, entry.payload).signer
        if signer and signer not in key_agencies:
            key_agencies[signer] = ledger.seal_key(signer).agency
        if key_agencies.get(signer, 0) == owner:
            own.append(entry)
    return owner, own
