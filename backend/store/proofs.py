"""Anchor proofs: the proof material of each anchor, taken while its block was fresh.

A node answers ``eth_getProof`` only for the states it still holds, so the storage proof an
evidence package needs is taken soon after anchoring and kept here, keyed by the anchor
(block hash, transaction hash, log index). The body is the JSON of
``backend.evidence.proofs.AnchorProof``; the store does not read inside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, Text, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from backend.store.engine import Base, Database

AnchorKey = tuple[str, str, str]
"""(block hash, transaction hash, log index), hashes in lower case."""


class AnchorProofRow(Base):
    """The proof material of one anchor."""

    __tablename__ = "evidence_anchor_proofs"
    block_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    tx_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    log_index: Mapped[str] = mapped_column(String(16), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class ProofStore(Database):
    """The anchor proofs of an evidence store."""

    def anchor_proof(self, key: AnchorKey) -> str | None:
        """The kept proof body (JSON text) of the anchor ``key``, if any."""
        with self.session() as session:
            row = session.get(AnchorProofRow, key)
            return None if row is None else row.body

    def anchor_proof_keys(self) -> set[AnchorKey]:
        """The anchors whose proof material is kept."""
        query = select(AnchorProofRow.block_hash, AnchorProofRow.tx_hash, AnchorProofRow.log_index)
        with self.session() as session:
            return {(str(a), str(b), str(c)) for a, b, c in session.execute(query)}

    def keep_anchor_proofs(self, proofs: Sequence[tuple[AnchorKey, str]]) -> None:
        """Keep proof bodies by anchor; an anchor already kept keeps its first body."""
        if not proofs:
            return
        known = self.anchor_proof_keys()
        rows = [
            {"block_hash": k[0], "tx_hash": k[1], "log_index": k[2], "body": body}
            for k, body in dict(proofs).items()
            if k not in known
        ]
        if rows:
            with self.session() as session:
                session.execute(insert(AnchorProofRow), rows)
