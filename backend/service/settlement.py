"""Settling outbox work from what the chain holds: receipts, refusals, and what a run did.

Whatever brings a notice onto the ledger (this run's transaction, an earlier run's,
another sender's), its receipt is read here from the chain's events and stored with
its outbox row settled, in one commit. An entry is settled only by an anchor of its
own agency: the agency the chain assigns to the entry's seal key. A record or event of
another agency for the same (ocid, release id), even with the same digest, refuses the
entry as the ledger would (``ProcessOfOtherAgency``); it never hands out the other
agency's receipt. Receipts name the agency as registered on chain (its
AgencyRegistered name), not as a caller spelled it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.chain import logs
from backend.chain.relayer import Flight, Relayer
from backend.chain.views import LedgerViews
from backend.core.merkle import member_tree
from backend.core.receipt import AnchorPoint, BatchMembership, Receipt, build_receipt, hex32, unhex
from backend.core.records import AnchoredEvent
from backend.core.seal import SealedFields, notice_key, ocid_hash
from backend.core.work import BatchWork, NoticeWork, Work, work_of
from backend.errors import ChainError, LedgerRevertError
from backend.service.context import Backend
from backend.store import OutboxEntry, OutboxStatus

LOOKUP_CHUNK = 256

Progress = Callable[[int], None]


@dataclass
class RunReport:
    """What one run of the outbox did."""

    anchored: int = 0
    already: int = 0
    refused: int = 0
    transactions: int = 0
    rebroadcasts: int = 0
    lost: int = 0  # notices the chain lost after they settled (node restored from older state, reorg)
    reopened: set[str] = field(default_factory=set)  # subjects of entries put back to pending for that
    anchored_subjects: set[str] = field(default_factory=set)  # digests anchored by this run
    receipts: dict[str, Receipt] = field(default_factory=dict)  # by digest hex
    refusals: dict[str, tuple[str, str]] = field(default_factory=dict)  # digest hex -> (error, name)


_WORK_CACHE: dict[int, tuple[object, Work]] = {}
_WORK_CACHE_SIZE = 65_536


def work(entry: OutboxEntry) -> Work:
    """The typed work item an outbox entry carries (read once per payload: a run asks often)."""
    payload = entry.payload
    found = _WORK_CACHE.get(id(payload))
    if found is not None and found[0] is payload:
        return found[1]
    item = work_of(entry.kind, payload)
    if len(_WORK_CACHE) >= _WORK_CACHE_SIZE:
        _WORK_CACHE.clear()
    _WORK_CACHE[id(payload)] = (payload, item)  # the payload is held, so its id is not reused
    return item


def first_member(entry: OutboxEntry) -> str:
    """The digest (hex) whose receipt stands for the entry: the notice, or a batch's first leaf."""
    return work(entry).members[0]


class Settlement:
    """Receipts and refusals for one run's entries, stored as they are made."""

    def __init__(self, backend: Backend, relayer: Relayer, report: RunReport, progress: Progress) -> None:
        self.store = backend.store
        self.ledger = backend.ledger
        self.relayer = relayer
        # The ledger was checked when it was opened: its views over the relayer's client need not be.
        self.reader = LedgerViews(relayer.rpc, self.ledger.deployment, check=False)
        self.final = backend.settings.confirmations <= 1
        self.report = report
        self.progress = progress
        self.settled: dict[int, OutboxEntry] = {}  # what this run settled, to be looked up again
        self._key_agencies: dict[str, int] = {}  # seal key -> the agency the chain assigns it (0: none)
        self._agency_names: dict[int, str | None] = {}

    # ---------------------------------------------------------------- agencies

    def sealing_agency(self, entry: OutboxEntry) -> int:
        """The agency the chain assigns to the key that sealed ``entry`` (0 when it assigns none)."""
        item = work(entry)
        if not item.signer:
            return item.agency_id
        if item.signer not in self._key_agencies:
            window = self.relayer.retry.run(lambda: self.ledger.seal_key(item.signer))
            self._key_agencies[item.signer] = int(window.agency)
        return self._key_agencies[item.signer]

    def agency_name(self, agency: int) -> str | None:
        """The name ``agency`` is registered under on chain (from its AgencyRegistered event)."""
        if agency not in self._agency_names:
            self._agency_names[agency] = (
                self.relayer.retry.run(lambda: self.ledger.agency_name(agency)) if agency else None
            )
        return self._agency_names[agency]

    def other_agency(self, entry: OutboxEntry, owner: int) -> LedgerRevertError:
        """The refusal for an entry whose (ocid, release id) another agency anchored: the ledger's own
        ``ProcessOfOtherAgency`` (or ``UnknownSealKey`` when no agency holds the entry's key)."""
        sealing = self.sealing_agency(entry)
        if not sealing:
            return LedgerRevertError("UnknownSealKey", {"signer": work(entry).signer})
        return LedgerRevertError(
            "ProcessOfOtherAgency",
            {"ocidHash": hex32(ocid_hash(entry.ocid)), "boundAgency": owner, "sealingAgency": sealing},
        )

    # ---------------------------------------------------------------- reconciling with the chain

    def records_by_key(self, keys: Sequence[bytes]) -> list[Any]:
        """``recordsByKey`` for any number of keys, in one round trip."""
        return list(self.relayer.retry.run(lambda: self.reader.records_by_key(keys)))

    def reconcile(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Settle entries the chain already knows about; return those still to send, in order."""
        notices = [e for e in entries if isinstance(work(e), NoticeWork)]
        to_send = set(e.id for e in self._reconcile_notices(notices))
        for entry in [e for e in entries if isinstance(work(e), BatchWork)]:
            if self.batch_from_events(entry):
                self.report.already += work(entry).size
            else:
                to_send.add(entry.id)
        return [e for e in entries if e.id in to_send]

    def _reconcile_notices(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        to_send: list[OutboxEntry] = []
        for start in range(0, len(entries), LOOKUP_CHUNK * 8):
            chunk = list(entries[start : start + LOOKUP_CHUNK * 8])
            records = self.records_by_key([notice_key(e.ocid, e.release_id) for e in chunk])
            anchored_here: list[OutboxEntry] = []
            for entry, record in zip(chunk, records, strict=True):
                ours = unhex(entry.subject)
                if record is None:
                    to_send.append(entry)
                elif record.agency != self.sealing_agency(entry):
                    # Another agency's process: what it anchored there is never this entry's anchor.
                    self.refuse(entry, self.other_agency(entry, record.agency))
                elif record.digest == ours:
                    anchored_here.append(entry)
                else:
                    self.refuse(
                        entry,
                        LedgerRevertError(
                            "DigestConflict",
                            {"anchoredDigest": hex32(record.digest), "offeredDigest": hex32(ours)},
                        ),
                    )
            if anchored_here:
                self.already(self.from_events(anchored_here))
        return to_send

    def already(self, notices: int) -> None:
        """``notices`` were found on the ledger already (anchored earlier, or by another sender)."""
        self.report.already += notices
        self.progress(notices)

    # ---------------------------------------------------------------- receipts from events

    def from_events(self, entries: Sequence[OutboxEntry]) -> int:
        """Receipts, read from their NoticeAnchored events, for notices already on the ledger;
        returns how many entries settled. An event of another agency with the entry's digest
        refuses the entry instead."""
        by_key: dict[bytes, list[OutboxEntry]] = {}
        for entry in entries:
            by_key.setdefault(notice_key(entry.ocid, entry.release_id), []).append(entry)
        events = self.relayer.retry.run(lambda: list(self.ledger.notice_events_for_keys(list(by_key))))
        done: list[tuple[OutboxEntry, Receipt]] = []
        foreign: dict[int, tuple[OutboxEntry, int]] = {}
        for event in events:
            for entry in by_key.get(event.key, []):
                if event.digest != unhex(entry.subject):
                    continue
                if event.agency != self.sealing_agency(entry):
                    foreign.setdefault(entry.id, (entry, event.agency))
                    continue
                done.append((entry, self._notice_receipt(entry, event, seal=event.seal)))
        self.finish(done)
        settled = {entry.id for entry, _ in done}
        for entry, owner in foreign.values():
            if entry.id not in settled:
                self.refuse(entry, self.other_agency(entry, owner))
        return len(settled)

    def batch_from_events(self, entry: OutboxEntry) -> bool:
        """Receipts for a batch root from its BatchAnchored event (its own agency's); False when the
        chain has none."""
        events = self.relayer.retry.run(lambda: self.ledger.batch_events(unhex(entry.subject)))
        mine = [e for e in events if e.agency == self.sealing_agency(entry)]
        if not mine:
            return False
        self._finish_batch(entry, mine[0])
        return True

    # ---------------------------------------------------------------- receipts of a mined transaction

    def settle_mined(self, mined: Iterable[tuple[Flight[list[OutboxEntry]], dict[str, Any]]]) -> None:
        """Receipts for mined groups, read from the events of their transaction receipts; the
        notices' receipts of all the groups stored in one commit."""
        done: list[tuple[OutboxEntry, Receipt]] = []
        skipped: list[OutboxEntry] = []
        for flight, tx_receipt in mined:
            if isinstance(work(flight.work[0]), BatchWork):
                self._settle_batch(flight, tx_receipt)
            else:
                skipped.extend(self._notices_of(flight, tx_receipt, done))
        self.finish(done)
        self.report.anchored += len(done)
        self.report.anchored_subjects.update(e.subject for e, _ in done)
        self.progress(len(done))
        # Exact duplicates skipped by anchorNotices were anchored earlier: receipts from events.
        if skipped:
            self.already(self.from_events(skipped))

    def _notices_of(
        self,
        flight: Flight[list[OutboxEntry]],
        tx_receipt: dict[str, Any],
        done: list[tuple[OutboxEntry, Receipt]],
    ) -> list[OutboxEntry]:
        """Receipts, added to ``done``, for the notices a mined group anchored; returns the entries
        of the group it did not anchor."""
        by_key: dict[bytes, list[OutboxEntry]] = {}
        for entry in flight.work:
            by_key.setdefault(notice_key(entry.ocid, entry.release_id), []).append(entry)
        anchored: set[int] = set()
        for raw in logs.logs_of(tx_receipt["logs"], logs.TOPIC_NOTICE_ANCHORED, self.relayer.contract):
            event = logs.decode_notice_anchored(raw)
            # The event's own entry: same key, sealed for the same agency (another agency may
            # have sent the same notice in this group; anchorNotices skipped its copy).
            own = next(
                (
                    e
                    for e in by_key.get(event.key, [])
                    if e.id not in anchored and self.sealing_agency(e) == event.agency
                ),
                None,
            )
            if own is None:
                continue
            if raw.get("blockTimestamp"):
                self.relayer.note_block_time(tx_receipt["blockHash"], int(raw["blockTimestamp"], 16))
            done.append((own, self._notice_receipt(own, event, seal=work(own).seal)))
            anchored.add(own.id)
        return [e for e in flight.work if e.id not in anchored]

    def _settle_batch(self, flight: Flight[list[OutboxEntry]], tx_receipt: dict[str, Any]) -> None:
        entry = flight.work[0]
        root = unhex(entry.subject)
        for event in logs.batch_events_in(tx_receipt["logs"], self.relayer.contract):
            if event.root == root:
                self._finish_batch(entry, event)
                self.report.anchored += work(entry).size
                self.report.anchored_subjects.update(work(entry).members)
                return
        raise ChainError(f"transaction {flight.tx_hash} succeeded without a BatchAnchored event")

    # ---------------------------------------------------------------- making and storing receipts

    def _anchor(self, block_number: int, block_hash: bytes, tx_hash: bytes, log_index: int) -> AnchorPoint:
        block = hex32(block_hash)
        return AnchorPoint(
            tx_hash=hex32(tx_hash),
            block_number=block_number,
            block_hash=block,
            block_timestamp=self.relayer.block_time(block_number, block),
            log_index=log_index,
        )

    def _notice_receipt(self, entry: OutboxEntry, event: AnchoredEvent, *, seal: bytes) -> Receipt:
        item = work(entry)
        assert isinstance(item, NoticeWork)
        return build_receipt(
            chain_id=self.relayer.chain_id,
            ledger=self.relayer.contract,
            fields=item.fields,
            seal=seal,
            signer=event.signer,
            agency=event.agency,
            agency_name=self.agency_name(event.agency),
            anchor=self._anchor(event.block_number, event.block_hash, event.tx_hash, event.log_index),
        )

    def _finish_batch(self, entry: OutboxEntry, event: logs.BatchEvent) -> None:
        """Receipts for every member of an anchored batch, each with its inclusion proof."""
        item = work(entry)
        assert isinstance(item, BatchWork)
        members = self.store.notice_fields(list(item.leaves))
        tree = member_tree((members[d][0], members[d][1], d) for d in item.leaves)
        if tree.root != item.root:
            raise ChainError(f"outbox batch {entry.id} does not hash to its root: the store was altered")
        anchor = self._anchor(event.block_number, event.block_hash, event.tx_hash, event.log_index)
        receipts = []
        for index, leaf in enumerate(item.leaves):
            ocid, release_id, stage = members[leaf]
            receipts.append(
                build_receipt(
                    chain_id=self.relayer.chain_id,
                    ledger=self.relayer.contract,
                    fields=SealedFields(ocid, release_id, stage, leaf, bytes(32), 0),
                    seal=item.seal,
                    signer=event.signer,
                    agency=event.agency,
                    agency_name=self.agency_name(event.agency),
                    anchor=anchor,
                    batch=BatchMembership(
                        root=tree.root,
                        size=tree.size,
                        label=item.label,
                        index=index,
                        proof=tree.inclusion_proof(index).to_json(),
                    ),
                )
            )
        self._store(receipts, [entry])
        self.progress(len(receipts))

    def finish(self, done: Sequence[tuple[OutboxEntry, Receipt]]) -> None:
        """Store each entry's own receipt and settle the entry, in one commit."""
        self._store([receipt for _, receipt in done], [entry for entry, _ in done])

    def _store(self, receipts: Sequence[Receipt], entries: Sequence[OutboxEntry]) -> None:
        self.store.settle(receipts, [e.id for e in entries], final=self.final)
        self.settled.update((e.id, e) for e in entries)
        self.report.receipts.update((r.digest_hex, r) for r in receipts)

    def refuse(self, entry: OutboxEntry, refusal: LedgerRevertError) -> None:
        """The ledger refuses ``entry`` (or would): its row says why, and the run reports it."""
        self.store.set_status(
            [entry.id],
            OutboxStatus.REFUSED,
            error=refusal.diagnostics(),
            error_name=refusal.reason,
            clear_tx=True,
        )
        members = work(entry).members
        for subject in members:
            self.report.refusals[subject] = (refusal.diagnostics(), refusal.reason)
        self.report.refused += len(members)
        self.progress(len(members))
