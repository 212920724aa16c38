"""State proofs: what proves a seal key's standing at an anchor's block, taken while it was fresh.

A node answers ``eth_getProof`` only for the states it still holds, so the storage proof an
evidence package needs (that the signer was a seal key of its agency at the anchor's block)
is taken soon after anchoring and kept here, keyed by (block hash, ledger, signer and
agency). The body is the node's ``eth_getProof`` answer as JSON; the store does not read
inside it. Headers, transactions and receipts stay available on the node, and are read when
a package is exported.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, Text, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from backend.store.engine import Base, Database

StateKey = tuple[str, str, str]
"""(block hash, ledger address, "signer/agency"), in lower case."""


class StateProofRow(Base):
    """The ``eth_getProof`` answer for one seal key at one block."""

    __tablename__ = "evidence_state_proofs"
    block_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    ledger: Mapped[str] = mapped_column(String(42), primary_key=True)
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class ProofStore(Database):
    """The state proofs of an evidence store."""

    def state_proof(self, key: StateKey) -> str | None:
        """The kept ``eth_getProof`` answer (JSON text) for ``key``, if any."""
        with self.session() as session:
            row = session.get(StateProofRow, key)
            return None if row is None else row.body

    def state_proof_keys(self) -> set[StateKey]:
        """The keys whose state proof is kept."""
        query = select(StateProofRow.block_hash, StateProofRow.ledger, StateProofRow.key)
        with self.session() as session:
            return {(str(a), str(b), str(c)) for a, b, c in session.execute(query)}

    def keep_state_proofs(self, proofs: Sequence[tuple[StateKey, str]]) -> None:
        """Keep state proofs by key; a key already kept keeps its first body."""
        known = self.state_proof_keys()
        rows = [
            {"block_hash": k[0], "ledger": k[1], "key": k[2], "body": body}
            for k, body in dict(proofs).items()
            if k not in known
        ]
        if rows:
            with self.session() as session:
                session.execute(insert(StateProofRow), rows)
