"""What an outbox row is (a kind of work) and where it stands (a status): the one definition.

Every layer that asks "is this still owed to the chain?" or "has this a receipt?" asks
these enums, never a tuple of strings of its own: such tuples drifted apart before
(one counted ``anchored`` as open, another did not).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class WorkKind(StrEnum):
    """What an outbox row carries to the chain."""

    NOTICE = "notice"  # one sealed notice; its subject is the notice digest
    BATCH = "batch"  # one sealed Merkle root; its subject is the root


class OutboxStatus(StrEnum):
    """Where an outbox row stands: pending -> sent -> anchored -> final, or refused.

    A row goes back from anchored (or final) to pending when the chain loses its block.
    """

    PENDING = "pending"  # committed, no transaction signed yet (or its transaction was forgotten)
    SENT = "sent"  # its signed transaction is written ahead and may be on its way
    ANCHORED = "anchored"  # on chain, with a receipt, waiting for confirmations
    FINAL = "final"  # on chain with ``confirmations`` blocks on top
    REFUSED = "refused"  # the ledger said no (its decoded error is kept with the row)

    @property
    def is_open(self) -> bool:
        """The chain has not taken this work yet: someone must still send or find it."""
        return self in (OutboxStatus.PENDING, OutboxStatus.SENT)

    @property
    def is_settled(self) -> bool:
        """The work is on chain and has a receipt (final or not)."""
        return self in (OutboxStatus.ANCHORED, OutboxStatus.FINAL)


OPEN_STATUSES: Final = tuple(s for s in OutboxStatus if s.is_open)
"""Statuses of work the chain has not taken yet (the outbox backlog)."""

SETTLED_STATUSES: Final = tuple(s for s in OutboxStatus if s.is_settled)
"""Statuses of work with a receipt."""

ALL_STATUSES: Final = tuple(OutboxStatus)
