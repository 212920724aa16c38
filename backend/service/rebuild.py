"""Steps 1 and 2 of the audit: the key registry and every notice record, from the chain's events alone.

Nothing here trusts a store, or the contract's own views: the records are rebuilt from
SealKeyAdded, SealKeyRevoked, AgencyRegistered and NoticeAnchored events, window by
window of blocks, and each is checked against the chain's rules as it is rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backend.chain.ledger import LOG_CHUNK_BLOCKS, Ledger
from backend.core.receipt import Receipt, hex32, receipt_of_event
from backend.core.records import AnchoredEvent, LedgerRecord, SealKeyTenure
from backend.core.seal import SealError, notice_key, notice_signer, ocid_hash
from backend.core.stages import Stage
from backend.service.findings import AuditCode, Discrepancy

WINDOW_BLOCKS = LOG_CHUNK_BLOCKS
"""Blocks whose events are read, and compared with the store, at a time."""


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

    def receipt(self, *, chain_id: int, ledger: str) -> Receipt:
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


def rebuild_records(ledger: Ledger, *, head: int | None = None) -> Iterator[RebuiltRecord]:
    """Every notice record, rebuilt from the chain's events alone, in chain order."""
    rebuilder = Rebuilder(ledger)
    last = ledger.head() if head is None else head
    for _low, _high, events in rebuilder.windows(head=last):
        for event in events:
            yield rebuilder.rebuild(event)
