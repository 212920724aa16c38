"""Tables of the evidence store.

The store keeps what the chain cannot: the exact bytes of every notice as received,
receipts, and the outbox of work not yet final on chain. It is never the source of a
verdict (the chain is); it supplies originals for field diffs and makes anchoring
crash-safe: an outbox row is committed before any transaction is sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backend.store.states import OutboxStatus

SCHEMA_VERSION = 3
# 3: outbox rows keyed by (kind, agency, subject); API tokens expire.


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """One row: the schema version this database was made with."""

    __tablename__ = "store_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class DocumentRow(Base):
    """A file exactly as received (a release, a package, or an evidence document)."""

    __tablename__ = "documents"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoticeRow(Base):
    """One notice: a release inside a document (or the document itself)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_key", "ocid", "release_id"),)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    ocid: Mapped[str] = mapped_column(String(512))
    release_id: Mapped[str] = mapped_column(String(512))
    stage: Mapped[int] = mapped_column(Integer)
    # RFC 8785 bytes of the release; None for evidence documents (their bytes are the document).
    canonical: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    document_sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"))
    pointer: Mapped[str] = mapped_column(String(256), default="")
    source: Mapped[str] = mapped_column(String(2048))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OutboxRow(Base):
    """Work for the chain: written and committed before any transaction is sent.

    Status moves pending -> sent -> anchored -> final, or to refused (the ledger said
    no, for good): ``states.OutboxStatus``. Rows are keyed by (kind, agency, subject):
    two agencies submitting the same bytes hold two rows, and neither is ever settled
    with the other's anchor. A crash leaves rows in pending or sent; recovery looks them up on
    chain (by key, digest or tx hash) before sending anything again. A row goes from
    anchored (or final) back to pending, its receipts dropped, when the chain loses
    its block (a reorg, a node restored from older state).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "agency", "subject", name="uq_outbox_agency_subject"),
        Index("ix_outbox_subject", "subject"),
        Index("ix_outbox_status", "status", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # states.WorkKind
    subject: Mapped[str] = mapped_column(String(64))  # notice digest or batch root (hex)
    ocid: Mapped[str] = mapped_column(String(512), default="")
    release_id: Mapped[str] = mapped_column(String(512), default="")
    agency: Mapped[str] = mapped_column(String(256))  # the agency's name as registered on chain
    payload: Mapped[str] = mapped_column(Text)  # sealed fields and seal, JSON
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sender: Mapped[str | None] = mapped_column(String(42), nullable=True)
    nonce: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class SentTransactionRow(Base):
    """A signed transaction, written before it is broadcast, once for all the rows it carries.

    Recovery after a crash or a node restart broadcasts exactly these bytes again.
    """

    __tablename__ = "sent_transactions"
    tx_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    raw_tx: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


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


class ApiTokenRow(Base):
    """An agency credential for the REST API's write routes (only its hash is kept).

    ``agency`` is the agency's name exactly as registered on chain. A token is live
    until ``expires_at`` (UTC) unless revoked first.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_agency", "agency"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(256))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class BatchMemberRow(Base):
    """One leaf of a Merkle batch's manifest: which notice, in which order, under which root.

    The root on chain commits to these rows (each leaf is ``merkle.member_leaf`` of the
    notice's ocid, release id and digest), so a manifest that hashes to its anchored root
    is evidence in its own right: verification reads it to find every anchor of an
    (ocid, release id), and ``audit-store`` re-hashes it.
    """

    __tablename__ = "batch_members"
    __table_args__ = (
        Index("ix_batch_members_key", "notice_key"),
        Index("ix_batch_members_ocid", "ocid"),
        Index("ix_batch_members_digest", "digest"),
    )
    root: Mapped[str] = mapped_column(String(64), primary_key=True)
    leaf_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    ocid: Mapped[str] = mapped_column(String(512))
    release_id: Mapped[str] = mapped_column(String(512))
    notice_key: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    stage: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(String(256))
