"""Receipts the chain can still take away: looked up again, reopened when lost, final when deep.

What was anchored can be taken away again (a reorg, a node restored from older state).
Entries that already have receipts are looked up on chain when a run is given them,
and everything a run settled is looked up again when its queue is empty: receipts of
notices the chain lost are dropped and the notices sent again; receipts of a
transaction that moved to another block are read again from its events. A receipt
becomes final once ``settings.confirmations`` blocks stand on it (its own included)
and its block is still the chain's at that height; until then ``finalize`` checks it
again on every run, and reopens it if its block is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from backend.core.receipt import Receipt, unhex
from backend.core.seal import notice_key
from backend.core.work import NoticeWork
from backend.service.settlement import RunReport, Settlement, first_member, work
from backend.store import OutboxEntry, OutboxStatus


class Finality:
    """Looks settled work up on chain again: what it lost is reopened, what stands deep is final."""

    def __init__(self, settlement: Settlement, confirmations: int) -> None:
        self.settlement = settlement
        self.relayer = settlement.relayer
        self.store = settlement.store
        self.report: RunReport = settlement.report
        self.confirmations = confirmations

    def lost_since_settled(self) -> list[OutboxEntry]:
        """Entries this run settled that the chain no longer holds, reopened (their receipts dropped)."""
        settled = list(self.settlement.settled.values())
        self.settlement.settled.clear()
        return self.recheck(settled)

    def recheck(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Look entries with receipts up on chain again; returns those it lost, reopened.

        Lost (a node restored from older state, a reorg): receipts dropped, pending again.
        Moved (the same transaction in another block after a reorg): receipts read again
        from the events. A receipt agrees with the chain when the chain holds the record
        and the receipt's block is the chain's block at that height.
        """
        if not entries:
            return []
        notices = [e for e in entries if isinstance(work(e), NoticeWork)]
        records = self.settlement.records_by_key([notice_key(e.ocid, e.release_id) for e in notices])
        lost: list[OutboxEntry] = []
        present: list[tuple[OutboxEntry, int]] = []
        for entry, record in zip(notices, records, strict=True):
            if record is None or record.digest != unhex(entry.subject):
                lost.append(entry)
            else:
                present.append((entry, record.block_number))
        ledger = self.settlement.ledger
        for entry in [e for e in entries if not isinstance(work(e), NoticeWork)]:
            root = unhex(entry.subject)
            batch = self.relayer.retry.run(lambda root=root: ledger.batch_record(root))  # type: ignore[misc]
            if batch is None:
                lost.append(entry)
            else:
                present.append((entry, batch.block_number))
        receipts = self._receipts_of([e for e, _ in present])
        hashes = self.relayer.block_hashes(number for _, number in present)
        moved: list[OutboxEntry] = []
        for entry, number in present:
            receipt = receipts.get(first_member(entry))
            if receipt is None or (receipt.anchor.block_number, receipt.anchor.block_hash) != (
                number,
                hashes.get(number),
            ):
                moved.append(entry)
        if moved:
            self.settlement.from_events([e for e in moved if isinstance(work(e), NoticeWork)])
            for entry in [e for e in moved if not isinstance(work(e), NoticeWork)]:
                self.settlement.batch_from_events(entry)
        if not lost:
            return []
        self._forget(lost)
        return [replace(e, status=OutboxStatus.PENDING) for e in lost]

    def _receipts_of(self, entries: Sequence[OutboxEntry]) -> dict[str, Receipt]:
        """The receipt of each entry's (first) member: made by this run, else from the store."""
        wanted = [first_member(e) for e in entries]
        found = {s: self.report.receipts[s] for s in wanted if s in self.report.receipts}
        stored = self.store.receipts([unhex(s) for s in wanted if s not in found])
        found.update((digest.hex(), receipt) for digest, receipt in stored.items())
        return found

    def _forget(self, entries: Sequence[OutboxEntry]) -> None:
        """The chain lost these: their receipts go, and they are pending again."""
        subjects: list[str] = []
        for entry in entries:
            members = work(entry).members
            subjects.extend(members)
            for subject in members:
                self.report.receipts.pop(subject, None)
                self.report.anchored_subjects.discard(subject)
        self.store.drop_receipts(subjects, reopen=[e.id for e in entries])
        self.report.lost += len(subjects)
        self.report.reopened.update(e.subject for e in entries)

    def finalize(self) -> list[OutboxEntry]:
        """Receipts with ``confirmations`` blocks on top (their own included) become final; those
        whose block left the chain are dropped and their entries reopened. Looks at every
        anchored entry of the store, not only this run's; returns the entries reopened."""
        waiting = self.store.outbox(statuses=(OutboxStatus.ANCHORED,))
        if not waiting:
            return []
        latest = self.relayer.latest_block()
        receipts = self._receipts_of(waiting)
        hashes = self.relayer.block_hashes(r.anchor.block_number for r in receipts.values())
        final_ids: list[int] = []
        final_digests: list[str] = []
        gone: list[OutboxEntry] = []
        for entry in waiting:
            receipt = receipts.get(first_member(entry))
            if receipt is None or hashes.get(receipt.anchor.block_number) != receipt.anchor.block_hash:
                gone.append(entry)
            elif latest - receipt.anchor.block_number + 1 >= self.confirmations:
                final_ids.append(entry.id)
                final_digests.extend(work(entry).members)
        if final_ids:
            self.store.mark_final(final_digests, final_ids)
        if gone:
            self._forget(gone)
        return [replace(e, status=OutboxStatus.PENDING) for e in gone]
