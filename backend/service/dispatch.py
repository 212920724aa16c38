"""Moving outbox work onto the chain, safely.

Every entry was committed to the outbox before this module sees it, and every signed
transaction is written to its rows before it is broadcast. Before sending anything,
entries are reconciled with the chain: a notice already on the ledger (from an
earlier run that crashed after sending) gets its receipt from the chain and is not
sent again. The ledger itself refuses a second anchor of the same (ocid, release id),
so even a retry that slips through cannot anchor anything twice.

Notices travel in groups through ``anchorNotices`` (one transaction, many notices).
A group the ledger would refuse is split in halves until the refused notices stand
alone; each is then reported with its decoded custom error, and the rest go on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from web3.exceptions import TimeExhausted, TransactionNotFound, Web3RPCError
from web3.types import TxReceipt

from backend.chain.revert import ADVICE, REVERT_EXCEPTIONS, ledger_error
from backend.core.receipt import AnchorPoint, build_receipt, hex32, unhex
from backend.core.seal import SealedFields, notice_key, to_checksum_address
from backend.errors import ChainError, LedgerRevertError, NetworkError
from backend.service.context import Backend
from backend.store import OutboxEntry

GROUP_SIZE = 32
LOOKUP_CHUNK = 256
RECEIPT_TIMEOUT_S = 120.0
NETWORK_RETRIES = 6
BACKOFF_START_S = 0.5
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


@dataclass
class DispatchReport:
    anchored: int = 0
    already: int = 0
    refused: int = 0
    anchored_subjects: set[str] = field(default_factory=set)  # digests anchored by this run


class Dispatcher:
    """Sends outbox entries as sealed-notice transactions and stores their receipts."""

    def __init__(
        self, backend: Backend, *, group_size: int = GROUP_SIZE, progress: Progress | None = None
    ) -> None:
        self.backend = backend
        self.ledger = backend.ledger
        self.store = backend.store
        self.sender = backend.relayer
        self.group_size = max(1, group_size)
        self.progress = progress or (lambda _n: None)
        self.report = DispatchReport()
        self._block_times: dict[int, int] = {}
        self._nonce: int | None = None

    # ---------------------------------------------------------------- entry point

    def run(self, entries: Sequence[OutboxEntry]) -> DispatchReport:
        """Anchor ``entries`` (notice kind), in order; each ends anchored or refused."""
        unique = {e.id: e for e in entries}  # the same notice may come from several files
        open_entries = [e for e in unique.values() if e.kind == "notice" and e.status in ("pending", "sent")]
        remaining = self.reconcile(open_entries)
        queue: deque[list[OutboxEntry]] = deque(
            remaining[i : i + self.group_size] for i in range(0, len(remaining), self.group_size)
        )
        while queue:
            group = queue.popleft()
            try:
                self._send_group(group)
            except LedgerRevertError as refusal:
                if len(group) == 1 and refusal.reason == "NoticeAlreadyAnchored":
                    self._receipts_from_events(group)  # landed meanwhile (another sender, a retry)
                    self.report.already += 1
                    self.progress(1)
                elif len(group) == 1:
                    self._refuse(group[0], refusal)
                else:
                    half = len(group) // 2
                    queue.appendleft(group[half:])
                    queue.appendleft(group[:half])
        return self.report

    # ---------------------------------------------------------------- reconciliation with the chain

    def reconcile(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Settle entries the chain already knows about; return those still to send."""
        to_send: list[OutboxEntry] = []
        for start in range(0, len(entries), LOOKUP_CHUNK):
            chunk = list(entries[start : start + LOOKUP_CHUNK])
            keys = [notice_key(e.ocid, e.release_id) for e in chunk]
            records = self._retry(lambda keys=keys: self.ledger.records_by_key(keys))  # type: ignore[misc]
            anchored_here: list[OutboxEntry] = []
            for entry, record in zip(chunk, records, strict=True):
                ours = unhex(entry.subject)
                if record is None:
                    to_send.append(entry)
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
                self._receipts_from_events(anchored_here)
                self.report.already += len(anchored_here)
                self.progress(len(anchored_here))
        return to_send

    def _receipts_from_events(self, entries: Sequence[OutboxEntry]) -> None:
        by_key = {notice_key(e.ocid, e.release_id): e for e in entries}
        events = self._retry(lambda: list(self.ledger.notice_events_for_keys(list(by_key))))
        receipts = []
        for event in events:
            entry = by_key.get(event.key)
            if entry is None or event.digest != unhex(entry.subject):
                continue
            receipts.append(
                self._receipt(
                    entry,
                    event.fields,
                    event.seal,
                    event.signer,
                    event.agency,
                    tx_hash=hex32(event.tx_hash),
                    block_number=event.block_number,
                    block_hash=hex32(event.block_hash),
                    log_index=event.log_index,
                )
            )
        self._finish(entries, receipts)

    # ---------------------------------------------------------------- sending

    def _send_group(self, group: list[OutboxEntry]) -> None:
        items = [(fields_of(e), seal_of(e)) for e in group]
        if len(group) == 1:
            function = self.ledger.contract.functions.anchorNotice(items[0][0].as_tuple(), items[0][1])
        else:
            function = self.ledger.contract.functions.anchorNotices(
                [f.as_tuple() for f, _ in items], [s for _, s in items]
            )
        gas = self._retry(lambda: self.sender.estimate(function))  # raises the decoded refusal
        receipt = self._broadcast(group, function, gas)
        if receipt["status"] != 1:
            # The chain moved between estimate and mining: let the halves be judged again.
            self.store.set_status([e.id for e in group], "pending", clear_tx=True)
            if len(group) == 1:
                raise self._explain(function, receipt)
            raise LedgerRevertError("GroupReverted", {"tx": hex32(bytes(receipt["transactionHash"]))})
        self._receipts_from_tx(group, receipt)

    def _broadcast(self, group: list[OutboxEntry], function: Any, gas: int) -> TxReceipt:
        w3 = self.sender.w3
        for attempt in range(NETWORK_RETRIES):
            nonce = self._next_nonce()
            tx = self.sender.build(function, gas=gas, nonce=nonce)
            signed = self.sender.account.sign_transaction(tx)
            tx_hash = hex32(bytes(signed.hash))
            self.store.mark_sent(
                [e.id for e in group],
                sender=self.sender.address,
                nonce=nonce,
                tx_hash=tx_hash,
                raw_tx=hex32(bytes(signed.raw_transaction)),
            )
            try:
                w3.eth.send_raw_transaction(signed.raw_transaction)
                return w3.eth.wait_for_transaction_receipt(
                    signed.hash, timeout=RECEIPT_TIMEOUT_S, poll_latency=0.02
                )
            except Web3RPCError as exc:
                if "nonce" in str(exc).lower():
                    self._nonce = None  # another sender used this key, or a transaction was dropped
                    continue
                raise
            except (requests.exceptions.ConnectionError, TimeExhausted) as exc:
                self._nonce = None
                self._sleep(attempt, exc)
        raise NetworkError(
            "the chain did not take the transaction after several attempts",
            hint="the work stays in the outbox; run the command again when the chain is back",
        )

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(
                self._retry(lambda: self.sender.w3.eth.get_transaction_count(self.sender.address, "pending"))
            )
        nonce = self._nonce
        self._nonce += 1
        return nonce

    def _explain(self, function: Any, receipt: TxReceipt) -> ChainError:
        try:
            function.call({"from": self.sender.address}, block_identifier=receipt["blockNumber"] - 1)
        except REVERT_EXCEPTIONS as exc:
            decoded = ledger_error(exc)
            if decoded is not None:
                return decoded
        return ChainError(f"transaction {hex32(bytes(receipt['transactionHash']))} reverted")

    def _receipts_from_tx(self, group: list[OutboxEntry], receipt: TxReceipt) -> None:
        by_key = {notice_key(e.ocid, e.release_id): e for e in group}
        events = self.ledger.contract.events.NoticeAnchored().process_receipt(receipt)
        receipts = []
        for event in events:
            args = event["args"]
            entry = by_key.get(bytes(args["key"]))
            if entry is None:
                continue
            receipts.append(
                self._receipt(
                    entry,
                    fields_of(entry),
                    bytes(args["seal"]),
                    to_checksum_address(args["signer"]),
                    int(args["agency"]),
                    tx_hash=hex32(bytes(receipt["transactionHash"])),
                    block_number=int(receipt["blockNumber"]),
                    block_hash=hex32(bytes(receipt["blockHash"])),
                    log_index=int(event["logIndex"]),
                )
            )
        anchored_now = {unhex(r["notice"]["digest"]) for r in receipts}
        # Exact duplicates skipped by anchorNotices were anchored earlier: take their receipts from events.
        skipped = [e for e in group if unhex(e.subject) not in anchored_now]
        self._finish([e for e in group if unhex(e.subject) in anchored_now], receipts)
        self.report.anchored += len(receipts)
        self.report.anchored_subjects.update(d.hex() for d in anchored_now)
        self.progress(len(receipts))
        if skipped:
            self._receipts_from_events(skipped)
            self.report.already += len(skipped)
            self.progress(len(skipped))

    # ---------------------------------------------------------------- results

    def _receipt(
        self,
        entry: OutboxEntry,
        fields: SealedFields,
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
            chain_id=self.ledger.deployment.chain_id,
            ledger=self.ledger.address,
            fields=fields,
            seal=seal,
            signer=signer,
            agency=agency,
            agency_name=entry.agency,
            anchor=AnchorPoint(
                tx_hash=tx_hash,
                block_number=block_number,
                block_hash=block_hash,
                block_timestamp=self._block_time(block_number),
                log_index=log_index,
            ),
        )

    def _block_time(self, block_number: int) -> int:
        if block_number not in self._block_times:
            block = self._retry(lambda: self.sender.w3.eth.get_block(block_number))
            self._block_times[block_number] = int(block["timestamp"])
        return self._block_times[block_number]

    def _finish(self, entries: Sequence[OutboxEntry], receipts: list[dict[str, Any]]) -> None:
        final = self.backend.settings.confirmations <= 1
        self.store.save_receipts(receipts, final=final)
        done = {r["notice"]["digest"].removeprefix("0x") for r in receipts}
        self.store.set_status([e.id for e in entries if e.subject in done], "final" if final else "anchored")

    def _refuse(self, entry: OutboxEntry, refusal: LedgerRevertError) -> None:
        self.store.set_status(
            [entry.id], "refused", error=refusal.diagnostics(), error_name=refusal.reason, clear_tx=True
        )
        self.report.refused += 1
        self.progress(1)

    # ---------------------------------------------------------------- resilience

    def _retry(self, call: Callable[[], Any]) -> Any:
        for attempt in range(NETWORK_RETRIES):
            try:
                return call()
            except (requests.exceptions.ConnectionError, NetworkError, TransactionNotFound) as exc:
                if attempt == NETWORK_RETRIES - 1:
                    raise NetworkError(
                        f"the chain keeps failing: {exc}",
                        hint="the work stays in the outbox; run the command again later",
                    ) from exc
                self._sleep(attempt, exc)
        raise AssertionError("unreachable")

    @staticmethod
    def _sleep(attempt: int, _error: BaseException) -> None:
        time.sleep(min(BACKOFF_MAX_S, BACKOFF_START_S * 2**attempt))
