"""Moving outbox work onto the chain: pipelined, and safe when things fail.

Safety first. Every entry was committed to the outbox before this module sees it,
and every signed transaction is written to its rows before it is broadcast. Before
sending anything, entries are reconciled with the chain: a notice already on the
ledger (from an earlier run that crashed after sending) gets its receipt from the
chain and is not sent again, and an entry whose recorded transaction the node still
holds (a run that crashed while it waited in the pool) is waited for, not sent twice.
The ledger itself refuses a second anchor of the same (ocid, release id), so even a
retry that slips through cannot anchor anything twice.

Then speed. Notices travel in groups through ``anchorNotices`` (one transaction,
many notices). Calldata is encoded directly (``backend.chain.calldata``) and sent as
raw JSON-RPC; nonces are kept locally so that up to ``window`` transactions are in
flight at once; receipts are collected in one batched request and read from their
log topics, without decoding through web3.

When a group would be refused (simulated with ``eth_call`` first) it is split in
halves until the refused notices stand alone; each is reported with its decoded
custom error, and the rest go on. A transaction that stops making progress for
``stall_s`` is looked up: dropped from the node's pool (or lost in a node restart),
it is broadcast again with its recorded bytes, in nonce order; its nonce taken by
another sender, its group is reconciled and sent again with a fresh nonce. When the
node comes back from an older state, its nonce for the relayer is below the ones in
flight: the gap is filled first with the run's own mined transactions, sent again
from their bytes in nonce order, so that notices still land in publication order.
While the node is unreachable, every call is retried with a growing, bounded delay
(``BACKOFF_START_S`` doubling up to ``BACKOFF_MAX_S``, ``NETWORK_RETRIES`` attempts);
then the run stops with a ``NetworkError`` and the work stays in the outbox.

What was anchored can be taken away again (a reorg, a node restored from older
state). Entries that already have receipts are looked up on chain when a run is
given them, and everything a run settled is looked up again when its queue is empty:
receipts of notices the chain lost are dropped and the notices sent again; receipts
of a transaction that moved to another block are read again from its events. A
receipt becomes final once ``settings.confirmations`` blocks stand on it (its own
included) and its block is still the chain's at that height; until then ``finalize``
checks it again on every run, and reopens it if its block is gone.

Tenants stay apart. An entry is settled only by an anchor of its own agency: the
agency the chain assigns to the entry's seal key. A record or event of another agency
for the same (ocid, release id), even with the same digest, refuses the entry as the
ledger would (``ProcessOfOtherAgency``); it never hands out the other agency's receipt.
Receipts name the agency as registered on chain (its AgencyRegistered name), not as a
caller spelled it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from backend.chain import calldata
from backend.chain.reader import LedgerReader
from backend.chain.revert import ADVICE, decode_revert
from backend.chain.rpc import RpcClient, RpcError, revert_bytes
from backend.core.merkle import member_tree
from backend.core.receipt import AnchorPoint, BatchMembership, build_receipt, hex32, unhex
from backend.core.seal import SealedFields, notice_key, ocid_hash, to_checksum_address
from backend.errors import ChainError, LedgerRevertError, NetworkError
from backend.service.context import Backend
from backend.service.failpoints import failpoint
from backend.store import OutboxEntry
from backend.store.states import OutboxStatus, WorkKind

GROUP_SIZE = 128
WINDOW = 8
LOOKUP_CHUNK = 256
# Gas limits are an upper bound (unused gas is not charged): the most a notice costs with
# 256-byte identifiers is well under this, and a group's limit stays within the block's.
GAS_PER_NOTICE_LIMIT = 150_000
GAS_BASE_LIMIT = 60_000
GAS_PER_BATCH_LIMIT = 120_000
BLOCK_GAS_SHARE = 0.9
POLL_S = 0.02
STALL_S = 5.0
MAX_ROUNDS = 5
NETWORK_RETRIES = 8
BACKOFF_START_S = 0.25
BACKOFF_MAX_S = 8.0

Progress = Callable[[int], None]


def fields_of(entry: OutboxEntry) -> SealedFields:
    f = entry.payload["fields"]
    return SealedFields(
        f["ocid"],
        f["release_id"],
        int(f["stage"]),
        unhex(f["digest"]),
        unhex(f["previous"]),
        int(f["deadline"]),
    )


def seal_of(entry: OutboxEntry) -> bytes:
    return unhex(entry.payload["seal"])


def _merge(first: Sequence[OutboxEntry], second: Sequence[OutboxEntry]) -> list[OutboxEntry]:
    """``first`` in its order, then the entries of ``second`` it lacks, each entry once."""
    return list({e.id: e for e in [*first, *second]}.values())


def _first_member(entry: OutboxEntry) -> str:
    """The digest (hex) whose receipt stands for the entry: the notice, or a batch's first leaf."""
    return str(entry.payload["leaves"][0]) if entry.kind == WorkKind.BATCH else entry.subject


@dataclass
class DispatchReport:
    anchored: int = 0
    already: int = 0
    refused: int = 0
    transactions: int = 0
    rebroadcasts: int = 0
    lost: int = 0  # notices the chain lost after they settled (node restored from older state, reorg)
    reopened: set[str] = field(default_factory=set)  # subjects of entries put back to pending for that
    anchored_subjects: set[str] = field(default_factory=set)  # digests anchored by this run
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    refusals: dict[str, tuple[str, str]] = field(default_factory=dict)  # digest hex -> (error, name)


@dataclass
class InFlight:
    group: list[OutboxEntry]
    data: bytes
    gas: int
    nonce: int
    tx_hash: str
    raw_tx: str
    sent_at: float


class Dispatcher:
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
        # Defaults are read when a dispatcher is made, not when this module is imported.
        self.stall_s = STALL_S if stall_s is None else stall_s
        self.ledger = backend.ledger
        self.store = backend.store
        self.account = backend.relayer.account
        self.sender = to_checksum_address(self.account.address)
        self.rpc = RpcClient(backend.w3)
        self.reader = LedgerReader(self.ledger, self.rpc)
        self.chain_id = self.ledger.deployment.chain_id
        self.contract = self.ledger.address
        self.group_size = max(1, GROUP_SIZE if group_size is None else group_size)
        self.window = max(1, WINDOW if window is None else window)
        self.progress = progress or (lambda _n: None)
        self.report = DispatchReport()
        self._block_times: dict[str, int] = {}  # by block hash: a height can change hands in a reorg
        self._nonce: int | None = None
        self._gas_price: int | None = None
        self._gas_cap: int | None = None
        self._settled: dict[int, OutboxEntry] = {}
        self._landed: dict[int, str] = {}  # nonce -> signed bytes of this run's mined transactions
        self._key_agencies: dict[str, int] = {}  # seal key -> the agency the chain assigns it (0: none)
        self._agency_names: dict[int, str | None] = {}

    # ---------------------------------------------------------------- entry point

    def run(self, entries: Sequence[OutboxEntry]) -> DispatchReport:
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
        open_entries += self._recheck(settled)
        # Receipts of earlier runs whose block is gone (a reorg) are acknowledged work too.
        open_entries = _merge(open_entries, self.finalize())
        for _round in range(MAX_ROUNDS):
            remaining = self.reconcile([e for e in open_entries if e.kind == WorkKind.NOTICE])
            batches = self.reconcile_batches([e for e in open_entries if e.kind == WorkKind.BATCH])
            inflight, rest = self._adopt([*remaining, *batches])
            notices = [e for e in rest if e.kind == WorkKind.NOTICE]
            size = self._group_size()
            queue: deque[list[OutboxEntry]] = deque(
                notices[i : i + size] for i in range(0, len(notices), size)
            )
            queue.extend([e] for e in rest if e.kind == WorkKind.BATCH)
            self._drain(queue, inflight)
            open_entries = _merge(self._lost_since_settled(), self.finalize())
            if not open_entries:
                break
        return self.report

    def _drain(self, queue: deque[list[OutboxEntry]], inflight: list[InFlight] | None = None) -> None:
        inflight = list(inflight or [])
        while queue or inflight:
            ready: list[InFlight] = []
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

    def _adopt(self, entries: Sequence[OutboxEntry]) -> tuple[list[InFlight], list[OutboxEntry]]:
        """Entries an earlier run sent whose transaction the node still holds: waited for, not sent
        again. Returns those flights, and the entries still to send (in order).

        A recorded transaction the node does not know was never broadcast, or was forgotten:
        its entries are sent afresh (the ledger would refuse a second anchor anyway).
        """
        by_tx: dict[str, list[OutboxEntry]] = {}
        for entry in entries:
            if entry.status == OutboxStatus.SENT and entry.tx_hash and entry.sender == self.sender:
                by_tx.setdefault(entry.tx_hash, []).append(entry)
        if not by_tx:
            return [], list(entries)
        hashes = list(by_tx)
        found = self._retry(lambda: self.rpc.batch([("eth_getTransactionByHash", [h]) for h in hashes]))
        flights: list[InFlight] = []
        adopted: set[int] = set()
        for tx_hash, tx in zip(hashes, found, strict=True):
            raw = self.store.sent_transaction(tx_hash) if isinstance(tx, dict) else None
            if raw is None or not isinstance(tx, dict):
                continue
            group = by_tx[tx_hash]
            flights.append(
                InFlight(
                    group=group,
                    data=unhex(tx["input"]),
                    gas=int(tx["gas"], 16),
                    nonce=int(tx["nonce"], 16),
                    tx_hash=tx_hash,
                    raw_tx=raw,
                    sent_at=time.monotonic(),
                )
            )
            adopted.update(e.id for e in group)
        flights.sort(key=lambda f: f.nonce)
        return flights, [e for e in entries if e.id not in adopted]

    def _lost_since_settled(self) -> list[OutboxEntry]:
        """Entries this run settled that the chain no longer holds, reopened (their receipts dropped)."""
        settled = list(self._settled.values())
        self._settled.clear()
        return self._recheck(settled)

    def _recheck(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Look entries with receipts up on chain again; returns those it lost, reopened.

        Lost (a node restored from older state, a reorg): receipts dropped, pending again.
        Moved (the same transaction in another block after a reorg): receipts read again
        from the events. A receipt agrees with the chain when the chain holds the record
        and the receipt's block is the chain's block at that height.
        """
        if not entries:
            return []
        notices = [e for e in entries if e.kind == WorkKind.NOTICE]
        records = self.records_by_key([notice_key(e.ocid, e.release_id) for e in notices])
        lost: list[OutboxEntry] = []
        present: list[tuple[OutboxEntry, int]] = []
        for entry, record in zip(notices, records, strict=True):
            if record is None or record.digest != unhex(entry.subject):
                lost.append(entry)
            else:
                present.append((entry, record.block_number))
        for entry in [e for e in entries if e.kind == WorkKind.BATCH]:
            batch = self._retry(lambda entry=entry: self.ledger.batch_record(unhex(entry.subject)))  # type: ignore[misc]
            if batch is None:
                lost.append(entry)
            else:
                present.append((entry, batch.block_number))
        receipts = self._receipts_of([e for e, _ in present])
        hashes = self._block_hashes(number for _, number in present)
        moved: list[OutboxEntry] = []
        for entry, number in present:
            anchor = receipts.get(_first_member(entry), {}).get("anchor", {})
            if anchor.get("block_number") != number or anchor.get("block_hash") != hashes.get(number):
                moved.append(entry)
        if moved:
            self._receipts_from_events([e for e in moved if e.kind == WorkKind.NOTICE])
            for entry in [e for e in moved if e.kind == WorkKind.BATCH]:
                self._batch_receipts_from_events(entry)
        if not lost:
            return []
        self._forget(lost)
        return [replace(e, status=OutboxStatus.PENDING) for e in lost]

    def _receipts_of(self, entries: Sequence[OutboxEntry]) -> dict[str, dict[str, Any]]:
        """The receipt of each entry's (first) member: made by this run, else from the store."""
        wanted = [_first_member(e) for e in entries]
        found = {s: self.report.receipts[s] for s in wanted if s in self.report.receipts}
        stored = self.store.receipts([unhex(s) for s in wanted if s not in found])
        found.update((digest.hex(), receipt) for digest, receipt in stored.items())
        return found

    def _block_hashes(self, heights: Iterable[int]) -> dict[int, str | None]:
        """The chain's block hash at each height (None above the head)."""
        ordered = sorted(set(heights))
        hashes: dict[int, str | None] = {}
        for start in range(0, len(ordered), LOOKUP_CHUNK):
            chunk = ordered[start : start + LOOKUP_CHUNK]
            blocks = self._retry(
                lambda chunk=chunk: self.rpc.batch(  # type: ignore[misc]
                    [("eth_getBlockByNumber", [hex(h), False]) for h in chunk]
                )
            )
            hashes.update(
                (h, b.get("hash") if isinstance(b, dict) else None)
                for h, b in zip(chunk, blocks, strict=True)
            )
        return hashes

    def _forget(self, entries: Sequence[OutboxEntry]) -> None:
        """The chain lost these: their receipts go, and they are pending again."""
        subjects: list[str] = []
        for entry in entries:
            members = entry.payload["leaves"] if entry.kind == WorkKind.BATCH else [entry.subject]
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
        latest = int(self._retry(lambda: self.rpc.call("eth_blockNumber", [])), 16)
        depth = self.backend.settings.confirmations
        receipts = self._receipts_of(waiting)
        hashes = self._block_hashes(
            int(r["anchor"]["block_number"]) for r in receipts.values() if "anchor" in r
        )
        final_ids: list[int] = []
        final_digests: list[str] = []
        gone: list[OutboxEntry] = []
        for entry in waiting:
            anchor = receipts.get(_first_member(entry), {}).get("anchor")
            if anchor is None or hashes.get(int(anchor["block_number"])) != anchor["block_hash"]:
                gone.append(entry)
            elif latest - int(anchor["block_number"]) + 1 >= depth:
                final_ids.append(entry.id)
                final_digests.extend(
                    entry.payload["leaves"] if entry.kind == WorkKind.BATCH else [entry.subject]
                )
        if final_ids:
            self.store.mark_final(final_digests, final_ids)
        if gone:
            self._forget(gone)
        return [replace(e, status=OutboxStatus.PENDING) for e in gone]

    def _split_or_refuse(
        self, group: list[OutboxEntry], refusal: LedgerRevertError, queue: deque[list[OutboxEntry]]
    ) -> None:
        if group[0].kind == WorkKind.BATCH:
            if refusal.reason == "BatchAlreadyAnchored":
                self.reconcile_batches(group)
            else:
                self._refuse(group[0], refusal)
            return
        if len(group) > 1:
            half = len(group) // 2
            queue.appendleft(group[half:])
            queue.appendleft(group[:half])
        elif refusal.reason == "NoticeAlreadyAnchored":
            # Landed meanwhile (another sender, a retry), or another agency's: refused then.
            if self._receipts_from_events(group):
                self.report.already += 1
                self.progress(1)
        else:
            self._refuse(group[0], refusal)

    # ---------------------------------------------------------------- reconciliation with the chain

    def reconcile(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Settle entries the chain already knows about; return those still to send, in order."""
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
                    self._refuse(entry, self._other_agency(entry, record.agency))
                elif record.digest == ours:
                    anchored_here.append(entry)
                else:
                    self._refuse(
                        entry,
                        LedgerRevertError(
                            "DigestConflict",
                            {"anchoredDigest": hex32(record.digest), "offeredDigest": hex32(ours)},
                            hint=ADVICE["DigestConflict"],
                        ),
                    )
            if anchored_here:
                settled = self._receipts_from_events(anchored_here)
                self.report.already += settled
                self.progress(settled)
        return to_send

    def reconcile_batches(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Settle batch roots already on the ledger (from their BatchAnchored events); return the rest."""
        to_send = []
        for entry in entries:
            if self._batch_receipts_from_events(entry):
                self.report.already += int(entry.payload["size"])
            else:
                to_send.append(entry)
        return to_send

    def _batch_receipts_from_events(self, entry: OutboxEntry) -> bool:
        """Receipts for a batch root from its BatchAnchored event; False when the chain has none."""
        root = unhex(entry.subject)
        events = self._retry(lambda: self.ledger.batch_events(root))
        if not events:
            return False
        mine = [e for e in events if e.agency == self.sealing_agency(entry)]
        if not mine:
            return False
        event = mine[0]
        self._finish_batch(
            entry,
            signer=event.signer,
            agency=event.agency,
            tx_hash=hex32(event.tx_hash),
            block_number=event.block_number,
            block_hash=hex32(event.block_hash),
            log_index=event.log_index,
        )
        return True

    def _finish_batch(
        self,
        entry: OutboxEntry,
        *,
        signer: str,
        agency: int,
        tx_hash: str,
        block_number: int,
        block_hash: str,
        log_index: int,
    ) -> None:
        """Receipts for every member of an anchored batch, each with its inclusion proof."""
        payload = entry.payload
        leaves = [bytes.fromhex(leaf) for leaf in payload["leaves"]]
        members = self.store.notice_fields(leaves)
        tree = member_tree((members[d][0], members[d][1], d) for d in leaves)
        if tree.root != unhex(payload["root"]):
            raise ChainError(f"outbox batch {entry.id} does not hash to its root: the store was altered")
        anchor = AnchorPoint(
            tx_hash=tx_hash,
            block_number=block_number,
            block_hash=block_hash,
            block_timestamp=self._block_time(block_number, block_hash),
            log_index=log_index,
        )
        seal = unhex(payload["seal"])
        receipts = []
        for index, leaf in enumerate(leaves):
            ocid, release_id, stage = members[leaf]
            fields = SealedFields(ocid, release_id, stage, leaf, bytes(32), 0)
            receipts.append(
                build_receipt(
                    chain_id=self.chain_id,
                    ledger=self.contract,
                    fields=fields,
                    seal=seal,
                    signer=signer,
                    agency=agency,
                    agency_name=self.agency_name(agency),
                    anchor=anchor,
                    batch=BatchMembership(
                        root=tree.root,
                        size=tree.size,
                        label=payload["label"],
                        index=index,
                        proof=tree.inclusion_proof(index).to_json(),
                    ),
                )
            )
        self.store.settle(receipts, [entry.id], final=self.backend.settings.confirmations <= 1)
        self._settled[entry.id] = entry
        self.report.receipts.update((r["notice"]["digest"].removeprefix("0x"), r) for r in receipts)
        self.progress(len(receipts))

    def records_by_key(self, keys: Sequence[bytes]) -> list[Any]:
        """``recordsByKey`` for any number of keys, in one round trip."""
        return list(self._retry(lambda: self.reader.records_by_key(keys)))

    def _receipts_from_events(self, entries: Sequence[OutboxEntry]) -> int:
        """Receipts, read from their NoticeAnchored events, for entries already on the ledger;
        returns how many entries settled.

        An event of another agency with the entry's digest refuses the entry instead.
        """
        by_key: dict[bytes, list[OutboxEntry]] = {}
        for entry in entries:
            by_key.setdefault(notice_key(entry.ocid, entry.release_id), []).append(entry)
        events = self._retry(lambda: list(self.ledger.notice_events_for_keys(list(by_key))))
        done: list[tuple[OutboxEntry, dict[str, Any]]] = []
        foreign: dict[int, tuple[OutboxEntry, int]] = {}
        for event in events:
            for entry in by_key.get(event.key, []):
                if event.digest != unhex(entry.subject):
                    continue
                if event.agency != self.sealing_agency(entry):
                    foreign.setdefault(entry.id, (entry, event.agency))
                    continue
                receipt = self._receipt(
                    entry,
                    event.seal,
                    event.signer,
                    event.agency,
                    tx_hash=hex32(event.tx_hash),
                    block_number=event.block_number,
                    block_hash=hex32(event.block_hash),
                    log_index=event.log_index,
                )
                done.append((entry, receipt))
        self._finish(done)
        settled = {entry.id for entry, _ in done}
        for entry, owner in foreign.values():
            if entry.id not in settled:
                self._refuse(entry, self._other_agency(entry, owner))
        return len(settled)

    # ---------------------------------------------------------------- agencies

    def sealing_agency(self, entry: OutboxEntry) -> int:
        """The agency the chain assigns to the key that sealed ``entry`` (0 when it assigns none)."""
        signer = str(entry.payload.get("signer") or "")
        if not signer:
            return int(entry.payload.get("agency_id") or 0)
        if signer not in self._key_agencies:
            window = self._retry(lambda: self.ledger.seal_key(signer))
            self._key_agencies[signer] = int(window.agency)
        return self._key_agencies[signer]

    def agency_name(self, agency: int) -> str | None:
        """The name ``agency`` is registered under on chain (from its AgencyRegistered event)."""
        if agency not in self._agency_names:
            self._agency_names[agency] = (
                self._retry(lambda: self.ledger.agency_name(agency)) if agency else None
            )
        return self._agency_names[agency]

    def _other_agency(self, entry: OutboxEntry, owner: int) -> LedgerRevertError:
        """The refusal for an entry whose (ocid, release id) another agency anchored: the ledger's own
        ``ProcessOfOtherAgency`` (or ``UnknownSealKey`` when no agency holds the entry's key)."""
        sealing = self.sealing_agency(entry)
        if not sealing:
            signer = str(entry.payload.get("signer", ""))
            return LedgerRevertError("UnknownSealKey", {"signer": signer}, hint=ADVICE.get("UnknownSealKey"))
        return LedgerRevertError(
            "ProcessOfOtherAgency",
            {"ocidHash": hex32(ocid_hash(entry.ocid)), "boundAgency": owner, "sealingAgency": sealing},
            hint=ADVICE.get("ProcessOfOtherAgency"),
        )

    # ---------------------------------------------------------------- sending

    def _group_size(self) -> int:
        cap = self._block_gas_cap()
        return max(1, min(self.group_size, (cap - GAS_BASE_LIMIT) // GAS_PER_NOTICE_LIMIT))

    def _block_gas_cap(self) -> int:
        if self._gas_cap is None:
            block = self._retry(lambda: self.rpc.call("eth_getBlockByNumber", ["latest", False]))
            self._gas_cap = int(int(block["gasLimit"], 16) * BLOCK_GAS_SHARE)
        return self._gas_cap

    def _calldata(self, group: list[OutboxEntry]) -> bytes:
        if group[0].kind == WorkKind.BATCH:
            payload = group[0].payload
            return calldata.anchor_batch_data(
                unhex(payload["root"]), int(payload["size"]), payload["label"], unhex(payload["seal"])
            )
        items = [(fields_of(e), seal_of(e)) for e in group]
        if len(items) == 1:
            return calldata.anchor_notice_data(*items[0])
        return calldata.anchor_notices_data(items)

    def _simulate(self, data: bytes, gas: int) -> None:
        """Run the call against the pending state; raise the ledger's decoded refusal if it would revert."""
        call = {"from": self.sender, "to": self.contract, "data": "0x" + data.hex(), "gas": hex(gas)}
        try:
            self._retry(lambda: self.rpc.call("eth_call", [call, "pending"]))
        except RpcError as error:
            raw = revert_bytes(error)
            decoded = decode_revert(raw) if raw else None
            if decoded is None:
                raise ChainError(f"the chain refused the call: {error.rpc_message}") from error
            raise LedgerRevertError(decoded.name, decoded.args, hint=ADVICE.get(decoded.name)) from error

    def _prepare(self, group: list[OutboxEntry]) -> InFlight:
        """Simulate the group's transaction (raising a decoded refusal) and sign it; nothing is sent."""
        data = self._calldata(group)
        per_item = GAS_PER_BATCH_LIMIT if group[0].kind == WorkKind.BATCH else GAS_PER_NOTICE_LIMIT
        gas = min(self._block_gas_cap(), GAS_BASE_LIMIT + per_item * len(group))
        self._simulate(data, gas)
        return self._sign(group, data, gas, self._next_nonce())

    def _sign(self, group: list[OutboxEntry], data: bytes, gas: int, nonce: int) -> InFlight:
        tx: dict[str, Any] = {
            "nonce": nonce,
            "gasPrice": self._price(),
            "gas": gas,
            "to": self.contract,
            "value": 0,
            "data": data,
            "chainId": self.chain_id,
        }
        signed = self.account.sign_transaction(tx)
        return InFlight(
            group=group,
            data=data,
            gas=gas,
            nonce=nonce,
            tx_hash=hex32(bytes(signed.hash)),
            raw_tx=hex32(bytes(signed.raw_transaction)),
            sent_at=time.monotonic(),
        )

    def _write_ahead(self, flights: Sequence[InFlight]) -> None:
        """The signed transactions go to disk, in one commit, before any of them is broadcast."""
        failpoint("before-write-ahead")
        self.store.mark_sent_many(
            [([e.id for e in f.group], self.sender, f.nonce, f.tx_hash, f.raw_tx) for f in flights]
        )
        failpoint("after-write-ahead")

    def _broadcast(self, ready: list[InFlight], queue: deque[list[OutboxEntry]]) -> list[InFlight]:
        """Write ahead, then broadcast ``ready`` in nonce order; returns the flights now in the air."""
        pending = list(ready)
        self._write_ahead(pending)
        sent: list[InFlight] = []
        attempt = 0
        while pending:
            flight = pending[0]
            try:
                self.rpc.call("eth_sendRawTransaction", [flight.raw_tx])
            except RpcError as error:
                if not _already_known(error):
                    if not _nonce_problem(error):
                        self._send_failed(flight, pending[1:], error, queue)
                        return sent
                    # "Nonce too low" for our own transaction: an earlier attempt (one whose
                    # answer was lost with the connection) reached the node. It is sent.
                    if self._known(flight.tx_hash) is None:
                        # Another sender used this key, or the node forgot our nonces: sign the
                        # rest again from the chain's count, write them ahead again, go on.
                        attempt += 1
                        if attempt >= NETWORK_RETRIES:
                            raise ChainError(f"nonce trouble does not clear: {error.rpc_message}") from error
                        self._nonce = None
                        pending = [self._sign(f.group, f.data, f.gas, self._next_nonce()) for f in pending]
                        self._write_ahead(pending)
                        continue
            except NetworkError as error:
                attempt += 1
                if attempt >= NETWORK_RETRIES:
                    raise NetworkError(
                        "the chain did not take the transactions after several attempts",
                        hint="the work stays in the outbox; run the command again when the chain is back",
                    ) from error
                self._sleep(attempt, error)
                continue  # the same bytes again: their nonce is still ours
            flight.sent_at = time.monotonic()
            sent.append(pending.pop(0))
            self.report.transactions += 1
        failpoint("after-broadcast")
        return sent

    def _send_failed(
        self, flight: InFlight, later: list[InFlight], error: RpcError, queue: deque[list[OutboxEntry]]
    ) -> None:
        """The node refused a transaction outright: its group and all later ones go back to the queue."""
        self._nonce = None
        for returned in reversed([flight, *later]):
            self.store.set_status([e.id for e in returned.group], OutboxStatus.PENDING, clear_tx=True)
            queue.appendleft(returned.group)
        raw = revert_bytes(error)
        decoded = decode_revert(raw) if raw else None
        if decoded is None:
            raise ChainError(f"the chain did not take the transaction: {error.rpc_message}") from error

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(
                self._retry(lambda: self.rpc.call("eth_getTransactionCount", [self.sender, "pending"])), 16
            )
        nonce = self._nonce
        self._nonce += 1
        return nonce

    def _price(self) -> int:
        if self._gas_price is None:
            self._gas_price = int(self._retry(lambda: self.rpc.call("eth_gasPrice", [])), 16)
        return self._gas_price

    # ---------------------------------------------------------------- collecting receipts

    def _collect(self, inflight: list[InFlight], queue: deque[list[OutboxEntry]]) -> None:
        replies = self._retry(
            lambda: self.rpc.batch([("eth_getTransactionReceipt", [flight.tx_hash]) for flight in inflight])
        )
        settled = []
        mined: list[tuple[InFlight, dict[str, Any]]] = []
        for flight, receipt in zip(list(inflight), replies, strict=True):
            if receipt is None or isinstance(receipt, RpcError):
                continue
            settled.append(flight)
            inflight.remove(flight)
            self._landed[flight.nonce] = flight.raw_tx
            if int(receipt["status"], 16) == 1:
                mined.append((flight, receipt))
            else:
                # The chain moved between simulation and mining: judge the notices again.
                self.store.set_status([e.id for e in flight.group], OutboxStatus.PENDING, clear_tx=True)
                queue.appendleft(flight.group)
        if mined:
            self._settle(mined)
            failpoint("after-receipts")
        if settled or not inflight:
            return
        if time.monotonic() - min(f.sent_at for f in inflight) > self.stall_s:
            self._repair(inflight, queue)
        else:
            time.sleep(POLL_S)

    def _repair(self, inflight: list[InFlight], queue: deque[list[OutboxEntry]]) -> None:
        """Transactions that stopped progressing: fill a nonce gap, rebroadcast the lost, resend the
        displaced; always in nonce order."""
        mined = int(
            self._retry(lambda: self.rpc.call("eth_getTransactionCount", [self.sender, "latest"])), 16
        )
        lowest = min(f.nonce for f in inflight)
        if mined < lowest and not self._fill_gap(range(mined, lowest)):
            # The chain lost nonces below ours that this run cannot send again (a node restored
            # from a state older than the run): everything in flight is signed again from the
            # chain's count, after its notices are looked up.
            for flight in sorted(inflight, key=lambda f: f.nonce, reverse=True):
                self._requeue(flight, queue)
            inflight.clear()
            return
        for flight in sorted(inflight, key=lambda f: f.nonce):
            known = self._known(flight.tx_hash)
            if known is not None and flight.nonce >= mined:
                flight.sent_at = time.monotonic()  # still waiting in the pool
                continue
            if flight.nonce < mined:
                receipt = self._retry(
                    lambda flight=flight: self.rpc.call(  # type: ignore[misc]
                        "eth_getTransactionReceipt", [flight.tx_hash]
                    )
                )
                if receipt is not None:
                    continue  # mined after all; the next collection settles it
                # Our nonce was used by another transaction: this one can never be mined.
                inflight.remove(flight)
                self._requeue(flight, queue)
                continue
            # Dropped from the pool, or forgotten by a restarted node: broadcast the same bytes again.
            self._rebroadcast(flight.raw_tx, flight.tx_hash)
            flight.sent_at = time.monotonic()

    def _fill_gap(self, nonces: range) -> bool:
        """Send again, in order, the transactions this run got mined with ``nonces`` and the chain
        has since lost (a node restored from older state, a reorg); False if some are not ours."""
        raws = [raw for nonce in nonces if (raw := self._landed.get(nonce)) is not None]
        if len(raws) != len(nonces):
            return False
        for raw in raws:
            self._rebroadcast(raw, "a transaction the chain lost")
        return True

    def _rebroadcast(self, raw_tx: str, what: str) -> None:
        try:
            self._retry(lambda: self.rpc.call("eth_sendRawTransaction", [raw_tx]))
        except RpcError as error:
            # Already there, or its nonce filled meanwhile: either way, nothing more to do with it.
            if not _already_known(error) and not _nonce_problem(error):
                raise ChainError(f"cannot rebroadcast {what}: {error.rpc_message}") from error
        self.report.rebroadcasts += 1

    def _requeue(self, flight: InFlight, queue: deque[list[OutboxEntry]]) -> None:
        """A flight that will not be mined: its entries, looked up on chain, go back to the queue's front."""
        self.store.set_status([e.id for e in flight.group], OutboxStatus.PENDING, clear_tx=True)
        self._nonce = None
        if flight.group[0].kind == WorkKind.BATCH:
            remaining = self.reconcile_batches(flight.group)
        else:
            remaining = self.reconcile(flight.group)
        if remaining:
            queue.appendleft(remaining)

    def _known(self, tx_hash: str) -> dict[str, Any] | None:
        """The node's view of a transaction (pending or mined), or None when it does not know it."""
        try:
            found = self._retry(lambda: self.rpc.call("eth_getTransactionByHash", [tx_hash]))
        except RpcError:
            return None
        return found if isinstance(found, dict) else None

    def _settle(self, mined: list[tuple[InFlight, dict[str, Any]]]) -> None:
        """Receipts for mined groups, read from their log topics, stored in one commit."""
        receipts: list[dict[str, Any]] = []
        done: list[tuple[OutboxEntry, dict[str, Any]]] = []
        skipped: list[OutboxEntry] = []
        for flight, receipt in mined:
            if flight.group[0].kind == WorkKind.BATCH:
                self._settle_batch(flight, receipt)
                continue
            by_key: dict[bytes, list[OutboxEntry]] = {}
            for entry in flight.group:
                by_key.setdefault(notice_key(entry.ocid, entry.release_id), []).append(entry)
            block_number = int(receipt["blockNumber"], 16)
            anchored: set[int] = set()
            for log in receipt["logs"]:
                topics = log["topics"]
                if not topics or unhex(topics[0]) != calldata.TOPIC_NOTICE_ANCHORED:
                    continue
                if to_checksum_address(log["address"]) != self.contract:
                    continue
                words = unhex(log["data"])
                agency = int.from_bytes(words[0:32], "big")
                signer = to_checksum_address(words[44:64])
                # The event's own entry: same key, sealed for the same agency (another agency may
                # have sent the same notice in this group; anchorNotices skipped its copy).
                own = next(
                    (
                        e
                        for e in by_key.get(unhex(topics[1]), [])
                        if e.id not in anchored and self.sealing_agency(e) == agency
                    ),
                    None,
                )
                if own is None:
                    continue
                if log.get("blockTimestamp"):
                    self._block_times.setdefault(receipt["blockHash"], int(log["blockTimestamp"], 16))
                made = self._receipt(
                    own,
                    seal_of(own),
                    signer,
                    agency,
                    tx_hash=flight.tx_hash,
                    block_number=block_number,
                    block_hash=receipt["blockHash"],
                    log_index=int(log["logIndex"], 16),
                )
                receipts.append(made)
                done.append((own, made))
                anchored.add(own.id)
            # Exact duplicates skipped by anchorNotices were anchored earlier: receipts from events.
            skipped.extend(e for e in flight.group if e.id not in anchored)
        self._finish(done)
        self.report.anchored += len(receipts)
        self.report.anchored_subjects.update(e.subject for e, _ in done)
        self.progress(len(receipts))
        if skipped:
            settled = self._receipts_from_events(skipped)
            self.report.already += settled
            self.progress(settled)

    # ---------------------------------------------------------------- results

    def _settle_batch(self, flight: InFlight, receipt: dict[str, Any]) -> None:
        entry = flight.group[0]
        for log in receipt["logs"]:
            topics = log["topics"]
            if (
                len(topics) == 3
                and unhex(topics[0]) == calldata.TOPIC_BATCH_ANCHORED
                and to_checksum_address(log["address"]) == self.contract
                and unhex(topics[1]) == unhex(entry.subject)
            ):
                words = unhex(log["data"])
                self._finish_batch(
                    entry,
                    signer=to_checksum_address(words[12:32]),
                    agency=int(topics[2], 16),
                    tx_hash=flight.tx_hash,
                    block_number=int(receipt["blockNumber"], 16),
                    block_hash=receipt["blockHash"],
                    log_index=int(log["logIndex"], 16),
                )
                self.report.anchored += int(entry.payload["size"])
                self.report.anchored_subjects.update(entry.payload["leaves"])
                return
        raise ChainError(f"transaction {flight.tx_hash} succeeded without a BatchAnchored event")

    def _receipt(
        self,
        entry: OutboxEntry,
        seal: bytes,
        signer: str,
        agency: int,
        *,
        tx_hash: str,
        block_number: int,
        block_hash: str,
        log_index: int,
    ) -> dict[str, Any]:
        return build_receipt(
            chain_id=self.chain_id,
            ledger=self.contract,
            fields=fields_of(entry),
            seal=seal,
            signer=signer,
            agency=agency,
            agency_name=self.agency_name(agency),
            anchor=AnchorPoint(
                tx_hash=tx_hash,
                block_number=block_number,
                block_hash=block_hash,
                block_timestamp=self._block_time(block_number, block_hash),
                log_index=log_index,
            ),
        )

    def _block_time(self, block_number: int, block_hash: str) -> int:
        """The timestamp of the block with ``block_hash`` (by number if the chain no longer has it)."""
        if block_hash not in self._block_times:
            block = self._retry(lambda: self.rpc.call("eth_getBlockByHash", [block_hash, False]))
            if not isinstance(block, dict):
                block = self._retry(lambda: self.rpc.call("eth_getBlockByNumber", [hex(block_number), False]))
            self._block_times[block_hash] = int(block["timestamp"], 16)
        return self._block_times[block_hash]

    def _finish(self, done: Sequence[tuple[OutboxEntry, dict[str, Any]]]) -> None:
        """Store each entry's own receipt and settle the entry, in one commit."""
        final = self.backend.settings.confirmations <= 1
        receipts = [receipt for _, receipt in done]
        self.report.receipts.update((r["notice"]["digest"].removeprefix("0x"), r) for r in receipts)
        self.store.settle(receipts, [e.id for e, _ in done], final=final)
        self._settled.update((e.id, e) for e, _ in done)

    def _refuse(self, entry: OutboxEntry, refusal: LedgerRevertError) -> None:
        self.store.set_status(
            [entry.id],
            OutboxStatus.REFUSED,
            error=refusal.diagnostics(),
            error_name=refusal.reason,
            clear_tx=True,
        )
        members = entry.payload["leaves"] if entry.kind == WorkKind.BATCH else [entry.subject]
        for subject in members:
            self.report.refusals[subject] = (refusal.diagnostics(), refusal.reason)
        self.report.refused += len(members)
        self.progress(len(members))

    # ---------------------------------------------------------------- resilience

    def _retry(self, call: Callable[[], Any]) -> Any:
        """Run ``call``, retrying while the chain is unreachable, with bounded backoff."""
        for attempt in range(NETWORK_RETRIES):
            try:
                return call()
            except NetworkError as exc:
                if attempt == NETWORK_RETRIES - 1:
                    raise NetworkError(
                        f"the chain keeps failing: {exc.message}",
                        hint="the work stays in the outbox; run the command again later",
                    ) from exc
                self._sleep(attempt, exc)
        raise AssertionError("unreachable")

    @staticmethod
    def _sleep(attempt: int, _error: BaseException) -> None:
        time.sleep(min(BACKOFF_MAX_S, BACKOFF_START_S * 2**attempt))


def _already_known(error: RpcError) -> bool:
    text = error.rpc_message.lower()
    return "already known" in text or "known transaction" in text or "already imported" in text


def _nonce_problem(error: RpcError) -> bool:
    text = error.rpc_message.lower()
    return "nonce" in text or "replacement transaction underpriced" in text
