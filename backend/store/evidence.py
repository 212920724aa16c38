"""The evidence store: exact notice bytes, receipts, API tokens and the outbox of chain work.

The store keeps what the chain cannot: the exact bytes of every notice as received,
receipts, and the outbox of work not yet final on chain. It is never the source of a
verdict (the chain is); it supplies originals for field diffs and makes anchoring
crash-safe: an outbox row is committed before any transaction is sent.
"""

from __future__ import annotations

from typing import ClassVar

from backend.store.documents import DocumentRow, DocumentStore, NoticeRow
from backend.store.engine import Base
from backend.store.manifests import BatchMemberRow
from backend.store.outbox import OutboxRow, OutboxStore, SentTransactionRow
from backend.store.proofs import ProofStore, StateProofRow
from backend.store.receipts import ReceiptRow, ReceiptStore
from backend.store.tokens import ApiTokenRow, TokenStore


class EvidenceStore(DocumentStore, OutboxStore, ReceiptStore, TokenStore, ProofStore):
    """Documents, notices, outbox, receipts, tokens, state proofs and batch manifests behind one
    SQLAlchemy engine.

    Batch manifests are read and written through ``manifests.ManifestStore``.
    """

    tables: ClassVar[tuple[type[Base], ...]] = (
        DocumentRow,
        NoticeRow,
        OutboxRow,
        SentTransactionRow,
        ReceiptRow,
        ApiTokenRow,
        BatchMemberRow,
        StateProofRow,
    )
