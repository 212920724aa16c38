"""What the ledger holds, as plain values (the chain layer fills them in)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.stages import Stage


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
    """A seal key's agency and the blocks between which it could seal."""

    agency: int
    added_block: int
    revoked_block: int  # 0 while active

    def valid_at(self, block_number: int) -> bool:
        """Whether a seal anchored in ``block_number`` was made while the key was valid."""
        if self.agency == 0 or block_number < self.added_block:
            return False
        return self.revoked_block == 0 or block_number < self.revoked_block
