"""The evidence store: exact notice bytes, receipts, API tokens, and the outbox of chain work.

One module per table family: ``documents`` (files and the notices in them), ``outbox``
(work for the chain, with its kinds and statuses), ``receipts``, ``tokens`` (API
credentials) and ``manifests`` (the leaves of each Merkle batch). ``engine`` opens the
database; ``evidence`` puts the families together as :class:`EvidenceStore`; ``scan``
reads rows as they are, for the audit against the chain.
"""

from backend.store.documents import StoredNotice
from backend.store.evidence import EvidenceStore
from backend.store.outbox import (
    ALL_STATUSES,
    OPEN_STATUSES,
    SETTLED_STATUSES,
    NewOutboxItem,
    OutboxEntry,
    OutboxKey,
    OutboxStatus,
    WorkKind,
)

__all__ = [
    "ALL_STATUSES",
    "OPEN_STATUSES",
    "SETTLED_STATUSES",
    "EvidenceStore",
    "NewOutboxItem",
    "OutboxEntry",
    "OutboxKey",
    "OutboxStatus",
    "StoredNotice",
    "WorkKind",
]
