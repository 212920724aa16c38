"""Receipts: what was handed out for each anchored notice and batch member, by notice digest.

A receipt is stored with its outbox rows marked anchored, in one commit; both become
final together; both are forgotten (the rows reopened) when the chain loses the block.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Index,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.core.receipt import Receipt
from backend.store.engine import Base, Database, known_keys, pages
from backend.store.outbox import NO_TRANSACTION, OutboxStatus, update_rows


@dataclass(frozen=True, slots=True)
class ReceiptRowView:
    """A receipts row: its columns and its body text, unparsed."""

    digest: str
    ocid: str
    release_id: str
    tx_hash: str
    block_number: int
    block_hash: str
    batch_root: str | None
    body: str


class ReceiptRow(Base):
    """A receipt handed out for an anchored notice or batch member."""

    __tablename__ = "receipts"
    __table_args__ = (
        Index("ix_receipts_key", "ocid", "release_id"),
        Index("ix_receipts_block", "block_number"),
    )
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    ocid: Mapped[str] = mapped_column(String(512))
    release_id: Mapped[str] = mapped_column(String(512))
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    batch_root: Mapped[str | None] = mapped_column(String(64), nullable=True)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)  # the versioned receipt JSON
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


RECEIPTS = cast(Table, ReceiptRow.__table__)


def _columns(receipt: Receipt, *, final: bool) -> dict[str, Any]:
    """The receipts row of ``receipt``, but for its key."""
    anchor, batch = receipt.anchor, receipt.batch
    return {
        "ocid": receipt.fields.ocid,
        "release_id": receipt.fields.release_id,
        "tx_hash": anchor.tx_hash,
        "block_number": anchor.block_number,
        "block_hash": anchor.block_hash,
        "batch_root": batch.root.hex() if batch else None,
        "final": final,
        "body": json.dumps(receipt.to_json(), sort_keys=True),
    }


def _put(session: Session, receipts: Sequence[Receipt], *, final: bool) -> None:
    """Store ``receipts``, replacing any already kept for the same digest."""
    if not receipts:
        return
    connection = session.connection()
    digests = [r.digest_hex for r in receipts]
    known = known_keys(connection, RECEIPTS.c.digest, digests)
    new_rows: dict[str, dict[str, Any]] = {}
    for digest, receipt in zip(digests, receipts, strict=True):
        values = _columns(receipt, final=final)
        if digest in known:
            connection.execute(update(RECEIPTS).where(RECEIPTS.c.digest == digest).values(**values))
        else:
            new_rows[digest] = {"digest": digest, **values}
    if new_rows:
        connection.execute(insert(RECEIPTS), list(new_rows.values()))


class ReceiptStore(Database):
    """The receipts of an evidence store, settled together with their outbox rows."""

    def save_receipts(self, receipts: Sequence[Receipt], *, final: bool = False) -> None:
        """Store (or replace) receipts, keyed by notice digest."""
        with self.session() as session:
            _put(session, receipts, final=final)

    def settle(self, receipts: Sequence[Receipt], ids: Sequence[int], *, final: bool) -> None:
        """Store receipts and mark their outbox rows anchored (or final), in one transaction."""
        status = OutboxStatus.FINAL if final else OutboxStatus.ANCHORED
        with self.session() as session:
            _put(session, receipts, final=final)
            update_rows(session, ids, status=str(status), error=None, error_name=None)

    def receipt(self, digest: bytes) -> Receipt | None:
        """The receipt of the notice with ``digest``, if one is stored."""
        with self.session() as session:
            row = session.get(ReceiptRow, digest.hex())
            return None if row is None else Receipt.from_json(json.loads(row.body))

    def receipts(self, digests: Sequence[bytes]) -> dict[bytes, Receipt]:
        """The stored receipts of these notices, by digest (notices without one left out)."""
        found: dict[bytes, Receipt] = {}
        query = select(RECEIPTS.c.digest, RECEIPTS.c.body)
        with self.session() as session:
            for page in pages(d.hex() for d in digests):
                for digest, body in session.execute(query.where(RECEIPTS.c.digest.in_(page))):
                    found[bytes.fromhex(digest)] = Receipt.from_json(json.loads(body))
        return found

    def receipts_not_final(self) -> list[Receipt]:
        """Every receipt not final yet, by block."""
        return list(self._bodies(RECEIPTS.c.final.is_(False)))

    def all_receipts(self) -> Iterator[Receipt]:
        """Every stored receipt, by block."""
        return self._bodies()

    def _bodies(self, *conditions: Any) -> Iterator[Receipt]:
        query = select(RECEIPTS.c.body).where(*conditions).order_by(RECEIPTS.c.block_number)
        with self.session() as session:
            for body in session.scalars(query):
                yield Receipt.from_json(json.loads(body))

    def mark_final(self, digests: Sequence[str], ids: Sequence[int] = ()) -> None:
        """Receipts (by digest) and their outbox rows (by id) become final, in one transaction."""
        with self.session() as session:
            for page in pages(digests):
                session.execute(update(RECEIPTS).where(RECEIPTS.c.digest.in_(page)).values(final=True))
            update_rows(session, ids, status=str(OutboxStatus.FINAL), error=None, error_name=None)

    def drop_receipts(self, digests: Sequence[str], *, reopen: Sequence[int] = ()) -> None:
        """Forget receipts whose block left the chain (reorg, node restored from older state);
        the outbox rows ``reopen`` go back to pending (their transaction forgotten), in the same commit."""
        with self.session() as session:
            for page in pages(digests):
                session.execute(delete(RECEIPTS).where(RECEIPTS.c.digest.in_(page)))
            update_rows(
                session,
                reopen,
                status=str(OutboxStatus.PENDING),
                error=None,
                error_name=None,
                **NO_TRANSACTION,
            )
