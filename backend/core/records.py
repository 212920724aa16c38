"""What the ledger holds, as plain values (the chain layer fills them in)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backend.core.seal import SealedFields
from backend.core.stages import Stage

Position = tuple[int, int]
"""Where an event sits on the chain: (block number, log index). Chain order is tuple order."""


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """An anchored notice as the ledger stores it."""

    digest: bytes
    signer: str
    agency: int
    block_number: int
    timestamp: int
    stage: Stage


@dataclass(frozen=True, slots=True)
class LedgerBatch:
    """An anchored Merkle batch root."""

    root: bytes
    signer: str
    agency: int
    block_number: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class ProcessState:
    """Lifecycle state of a procurement process on the ledger."""

    agency: int
    deadline: int
    has_tender: bool
    cancelled: bool
    notices: int
    first_award_at: int = 0  # time of the first award or contract notice, 0 when none


@dataclass(frozen=True, slots=True)
class SealKeyWindow:
    """A seal key as the contract's ``sealKey`` view states it: agency and blocks only.

    Blocks alone cannot say whether a notice anchored in the block of the key's
    revocation came before it: judge seals with :class:`SealKeyTenure` instead.
    """

    agency: int
    added_block: int
    revoked_block: int  # 0 while active


@dataclass(frozen=True, slots=True)
class SealKeyTenure:
    """The one model of when a seal key could seal: between the events that added and revoked it.

    Positions are (block, log index), so a notice anchored in the same block as the key's
    revocation is valid exactly when it came first, which is what the contract enforced:
    the revocation transaction ends the key's tenure, not its block.
    """

    agency: int
    added: Position
    revoked: Position | None = None

    def valid_at(self, position: Position) -> bool:
        """Whether a seal anchored at ``position`` was made while the key was valid."""
        if self.agency == 0 or position <= self.added:
            return False
        return self.revoked is None or position < self.revoked


def tenures_from_events(events: Iterable[tuple[str, int, bool, Position]]) -> dict[str, SealKeyTenure]:
    """Every key's tenure from (key, agency, added, position) events in chain order.

    A key is added once (the contract refuses a second registration) and revoked at most once.
    """
    tenures: dict[str, SealKeyTenure] = {}
    for key, agency, added, position in sorted(events, key=lambda e: e[3]):
        if added:
            tenures[key] = SealKeyTenure(agency, position)
        elif key in tenures:
            known = tenures[key]
            tenures[key] = SealKeyTenure(known.agency, known.added, position)
    return tenures


@dataclass(frozen=True, slots=True)
class AnchoredEvent:
    """One NoticeAnchored event, decoded: enough to rebuild a record without the contract."""

    key: bytes
    ocid_hash: bytes
    digest: bytes
    agency: int
    signer: str
    fields: SealedFields
    seal: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int
