"""Moving outbox work onto the chain: the state machine, pipelined, and safe when things fail.

Safety first. Every entry was committed to the outbox before this module sees it,
and every signed transaction is written to its rows before it is broadcast. Before
sending anything, entries are reconciled with the chain (``settlement``): a notice
already on the ledger (from an earlier run that crashed after sending) gets its
receipt from the chain and is not sent again, and an entry whose recorded transaction
the node still holds (a run that crashed while it waited in the pool) is waited for,
not sent twice. The ledger itself refuses a second anchor of the same (ocid, release
id), so even a retry that slips through cannot anchor anything twice.

Then speed. Notices travel in groups through ``anchorNotices`` (one transaction, many
notices); up to ``window`` transactions are in flight at once (``chain.relayer``).

When a group would be refused (simulated with ``eth_call`` first) it is split in halves
until the refused notices stand alone; each is reported with its decoded custom error,
and the rest go on. A transaction that stops making progress for ``stall_s`` is handed
to the relayer's repair; one that can never be mined has its work reconciled and sent
again. While the node is unreachable, the relayer retries with a growing, bounded
delay; then the run stops with a ``NetworkError`` and the work stays in the outbox.

Settled work can still be lost (``finality``): looked up again when the queue is empty.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence

from backend.chain.calldata import anchor_call
from backend.chain.relayer import Flight, Relayer
from backend.chain.rpc import RpcClient
from backend.core.receipt import unhex
from backend.core.work import BatchWork
from backend.errors import LedgerRevertError
from backend.service.context import Backend
from backend.service.failpoints import failpoint
from backend.service.finality import Finality
from backend.service.settlement import Progress, RunReport, Settlement, work
from backend.store import OutboxEntry, OutboxStatus

log = logging.getLogger(__name__)

GROUP_SIZE = 128
WINDOW = 8
# Gas limits are an upper bound (unused gas is not charged): the most a notice costs with
# 256-byte identifiers is well under this, and a group's limit stays within the block's.
GAS_PER_NOTICE_LIMIT = 150_000
GAS_BASE_LIMIT = 60_000
GAS_PER_BATCH_LIMIT = 120_000
POLL_S = 0.02
STALL_S = 5.0
MAX_ROUNDS = 5

Group = list[OutboxEntry]


def _merge(first: Sequence[OutboxEntry], second: Sequence[OutboxEntry]) -> list[OutboxEntry]:
    """``first`` in its order, then the entries of ``second`` it lacks, each entry once."""
    return list({e.id: e for e in [*first, *second]}.values())


def _is_batch(entry: OutboxEntry) -> bool:
    return isinstance(work(entry), BatchWork)


class OutboxRunner:
    """Sends outbox entries as sealed-notice transactions and stores their receipts."""

    def __init__(
        self,
        backend: Backend,
        *,
        group_size: int | None = None,
        window: int | None = None,
        stall_s: float | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.backend = backend
        self.store = backend.store
        # Defaults are read when a runner is made, not when this module is imported.
        self.stall_s = STALL_S if stall_s is None else stall_s
        self.group_size = max(1, GROUP_SIZE if group_size is None else group_size)
        self.window = max(1, WINDOW if window is None else window)
        ledger = backend.ledger
        self.relayer = Relayer(
            RpcClient(backend.w3),
            backend.relayer.account,
            contract=ledger.address,
            chain_id=ledger.deployment.chain_id,
        )
        self.report = RunReport()
        self.settlement = Settlement(backend, self.relayer, self.report, progress or (lambda _n: None))
        self.finality = Finality(self.settlement, backend.settings.confirmations)

    @property
    def rpc(self) -> RpcClient:
        """The JSON-RPC client every request of this run goes through."""
        return self.relayer.rpc

    def finalize(self) -> list[OutboxEntry]:
        """Receipts deep enough become final; entries whose block left the chain come back, reopened."""
        return self.finality.finalize()

    # ---------------------------------------------------------------- entry point

    def run(self, entries: Sequence[OutboxEntry]) -> RunReport:
        """Anchor ``entries`` (notices and batch roots), in order; each ends anchored or refused.

        Entries that already have receipts are looked up on chain first: what a node
        restored from older state or a reorg took away is sent again. Entries a crashed
        run sent are looked up by their transaction: one the node still holds is waited
        for, not sent twice. When the queue is empty, everything this run settled is
        looked up again, and receipts old enough become final.
        """
        unique = {e.id: e for e in entries}  # the same notice may come from several files
        settled = [e for e in unique.values() if e.status.is_settled]
        open_entries = [e for e in unique.values() if e.status.is_open]
        open_entries += self.finality.recheck(settled)
        # Receipts of earlier runs whose block is gone (a reorg) are acknowledged work too.
        open_entries = _merge(open_entries, self.finality.finalize())
        for _round in range(MAX_ROUNDS):
            inflight, rest = self._adopt(self.settlement.reconcile(open_entries))
            notices = [e for e in rest if not _is_batch(e)]
            size = self._group_size()
            queue: deque[Group] = deque(notices[i : i + size] for i in range(0, len(notices), size))
            queue.extend([e] for e in rest if _is_batch(e))
            self._drain(queue, inflight)
            open_entries = _merge(self.finality.lost_since_settled(), self.finality.finalize())
            if not open_entries:
                break
        self.report.rebroadcasts = self.relayer.rebroadcasts
        self._keep_proofs()
        return self.report

    def _keep_proofs(self) -> None:
        """Take the proof material of this run's anchors while their blocks are fresh: a node keeps
        old states for a while only, and an evidence package needs a storage proof at the block."""
        if not self.report.receipts:
            return
        from backend.evidence.capture import keep_proofs_of

        # One state proof serves every anchor of a block by one seal key: one receipt each asks for it.
        receipts = self.report.receipts.values()
        one_each = {(r.anchor.block_hash, r.signer, r.agency): r for r in receipts}
        for problem in keep_proofs_of(self.store, self.relayer.rpc, one_each.values()):
            log.info("%s (run 'tenderledger evidence capture' later to try again)", problem)

    def _drain(self, queue: deque[Group], inflight: list[Flight[Group]]) -> None:
        while queue or inflight:
            ready: list[Flight[Group]] = []
            while queue and len(inflight) + len(ready) < self.window:
                group = queue.popleft()
                try:
                    ready.append(self._prepare(group))
                except LedgerRevertError as refusal:
                    self._split_or_refuse(group, refusal, queue)
            if ready:
                inflight.extend(self._broadcast(ready, queue))
            if inflight:
                self._collect(inflight, queue)

    def _adopt(self, entries: Sequence[OutboxEntry]) -> tuple[list[Flight[Group]], list[OutboxEntry]]:
        """Entries an earlier run sent whose transaction the node still holds: waited for, not sent
        again. Returns those flights, and the entries still to send (in order).

        A recorded transaction the node does not know was never broadcast, or was forgotten:
        its entries are sent afresh (the ledger would refuse a second anchor anyway).
        """
        by_tx: dict[str, Group] = {}
        for entry in entries:
            if entry.status == OutboxStatus.SENT and entry.tx_hash and entry.sender == self.relayer.sender:
                by_tx.setdefault(entry.tx_hash, []).append(entry)
        if not by_tx:
            return [], list(entries)
        hashes = list(by_tx)
        flights: list[Flight[Group]] = []
        adopted: set[int] = set()
        for tx_hash, tx in zip(hashes, self.relayer.transactions(hashes), strict=True):
            raw = self.store.sent_transaction(tx_hash) if tx is not None else None
            if raw is None or tx is None:
                continue
            group = by_tx[tx_hash]
            flights.append(
                Flight(
                    work=group,
                    data=unhex(tx["input"]),
                    gas=int(tx["gas"], 16),
                    nonce=int(tx["nonce"], 16),
                    tx_hash=tx_hash,
                    raw_tx=raw,
                )
            )
            adopted.update(e.id for e in group)
        flights.sort(key=lambda f: f.nonce)
        return flights, [e for e in entries if e.id not in adopted]

    # ---------------------------------------------------------------- refusals

    def _split_or_refuse(self, group: Group, refusal: LedgerRevertError, queue: deque[Group]) -> None:
        if _is_batch(group[0]):
            if refusal.reason == "BatchAlreadyAnchored":
                self.settlement.reconcile(group)
            else:
                self.settlement.refuse(group[0], refusal)
            return
        if len(group) > 1:
            half = len(group) // 2
            queue.appendleft(group[half:])
            queue.appendleft(group[:half])
        elif refusal.reason == "NoticeAlreadyAnchored":
            # Landed meanwhile (another sender, a retry), or another agency's: refused then.
            if self.settlement.from_events(group):
                self.settlement.already(1)
        else:
            self.settlement.refuse(group[0], refusal)

    # ---------------------------------------------------------------- sending

    def _group_size(self) -> int:
        cap = self.relayer.block_gas_cap()
        return max(1, min(self.group_size, (cap - GAS_BASE_LIMIT) // GAS_PER_NOTICE_LIMIT))

    def _prepare(self, group: Group) -> Flight[Group]:
        """Simulate the group's transaction (raising a decoded refusal) and sign it; nothing is sent."""
        data = anchor_call([work(e) for e in group])
        per_item = GAS_PER_BATCH_LIMIT if _is_batch(group[0]) else GAS_PER_NOTICE_LIMIT
        gas = min(self.relayer.block_gas_cap(), GAS_BASE_LIMIT + per_item * len(group))
        self.relayer.simulate(data, gas)
        return self.relayer.sign(group, data, gas)

    def _write_ahead(self, flights: Sequence[Flight[Group]]) -> None:
        """The signed transactions go to disk, in one commit, before any of them is broadcast."""
        failpoint("before-write-ahead")
        sender = self.relayer.sender
        self.store.mark_sent_many(
            [([e.id for e in f.work], sender, f.nonce, f.tx_hash, f.raw_tx) for f in flights]
        )
        failpoint("after-write-ahead")

    def _broadcast(self, ready: list[Flight[Group]], queue: deque[Group]) -> list[Flight[Group]]:
        """Write ahead, then broadcast ``ready`` in nonce order; returns the flights now in the air."""
        done = self.relayer.broadcast(ready, self._write_ahead)
        self.report.transactions += len(done.sent)
        if done.error is None:
            failpoint("after-broadcast")
            return done.sent
        # The node refused a transaction outright: its group and all later ones go back to the queue.
        for returned in reversed(done.returned):
            self.store.set_status([e.id for e in returned.work], OutboxStatus.PENDING, clear_tx=True)
            queue.appendleft(returned.work)
        self.relayer.raise_unless_refusal(done.error)
        return done.sent

    # ---------------------------------------------------------------- collecting receipts

    def _collect(self, inflight: list[Flight[Group]], queue: deque[Group]) -> None:
        succeeded, reverted = self.relayer.collect(inflight)
        for flight in reverted:
            # The chain moved between simulation and mining: judge the notices again.
            self.store.set_status([e.id for e in flight.work], OutboxStatus.PENDING, clear_tx=True)
            queue.appendleft(flight.work)
        if succeeded:
            self.settlement.settle_mined(succeeded)
            failpoint("after-receipts")
        if succeeded or reverted or not inflight:
            return
        if time.monotonic() - min(f.sent_at for f in inflight) > self.stall_s:
            for flight in self.relayer.repair(inflight):
                self._requeue(flight, queue)
        else:
            time.sleep(POLL_S)

    def _requeue(self, flight: Flight[Group], queue: deque[Group]) -> None:
        """A flight that will not be mined: its entries, looked up on chain, go back to the queue's front."""
        self.store.set_status([e.id for e in flight.work], OutboxStatus.PENDING, clear_tx=True)
        remaining = self.settlement.reconcile(flight.work)
        if remaining:
            queue.appendleft(remaining)
