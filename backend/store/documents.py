"""Documents and notices: every file exactly as received, and each notice it holds.

The store keeps what the chain cannot: the exact bytes of every notice. It is never
the source of a verdict (the chain is); it supplies originals for field diffs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.store.engine import Base, Database, insert_new, pages

NAME_CHARS = 1024
"""A document's name is kept to this many characters."""
SOURCE_CHARS = 2048
"""A notice's source (file name and JSON pointer) is kept to this many characters."""


@dataclass(frozen=True, slots=True)
class NoticeColumns:
    """What a notices row says of its notice, and where the notice's exact bytes are."""

    ocid: str
    release_id: str
    stage: int
    canonical: bytes | None
    document_sha256: str
    pointer: str


@dataclass(frozen=True)
class StoredNotice(NoticeColumns):
    """What ``keep_notices`` needs of a notice."""

    digest: bytes
    source: str


@dataclass(frozen=True, slots=True)
class NoticeRowView(NoticeColumns):
    """A notices row as stored: its key (the digest, hex) and what it says of the notice."""

    digest: str


class DocumentRow(Base):
    """A file exactly as received (a release, a package, or an evidence document)."""

    __tablename__ = "documents"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_CHARS))
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
    source: Mapped[str] = mapped_column(String(SOURCE_CHARS))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


DOCUMENTS = cast(Table, DocumentRow.__table__)
NOTICES = cast(Table, NoticeRow.__table__)


class DocumentStore(Database):
    """The documents and notices of an evidence store."""

    def keep_document(self, data: bytes, *, sha256: str, name: str) -> None:
        """Store a file's exact bytes once (idempotent by SHA-256)."""
        self.keep_documents([(sha256, name, data)])

    def keep_documents(self, documents: Sequence[tuple[str, str, bytes]]) -> None:
        """Store files' exact bytes, (sha256, name, data) each, in one transaction (idempotent)."""
        if not documents:
            return
        rows = [
            {"sha256": sha256, "name": name[:NAME_CHARS], "size": len(data), "data": data}
            for sha256, name, data in documents
        ]
        with self.session() as session:
            insert_new(session.connection(), DOCUMENTS, "sha256", rows)

    def keep_notices(self, notices: Sequence[StoredNotice]) -> None:
        """Store notices (idempotent by digest), in one transaction."""
        if not notices:
            return
        rows = [
            {
                "digest": notice.digest.hex(),
                "ocid": notice.ocid,
                "release_id": notice.release_id,
                "stage": notice.stage,
                "canonical": notice.canonical,
                "document_sha256": notice.document_sha256,
                "pointer": notice.pointer,
                "source": notice.source[:SOURCE_CHARS],
            }
            for notice in notices
        ]
        with self.session() as session:
            insert_new(session.connection(), NOTICES, "digest", rows)

    def notice_fields(self, digests: Sequence[bytes]) -> dict[bytes, tuple[str, str, int]]:
        """(ocid, release id, stage) of stored notices, by digest."""
        found: dict[bytes, tuple[str, str, int]] = {}
        query = select(NOTICES.c.digest, NOTICES.c.ocid, NOTICES.c.release_id, NOTICES.c.stage)
        with self.session() as session:
            for page in pages(d.hex() for d in digests):
                for row in session.execute(query.where(NOTICES.c.digest.in_(page))):
                    found[bytes.fromhex(row.digest)] = (row.ocid, row.release_id, row.stage)
        return found

    def notice_source(self, digest: bytes) -> tuple[bytes, str] | None:
        """The exact bytes of the file that held the notice with ``digest``, and its JSON pointer there."""
        with self.session() as session:
            row = session.get(NoticeRow, digest.hex())
            if row is None:
                return None
            document = session.get(DocumentRow, row.document_sha256)
            return None if document is None else (document.data, row.pointer)

    def document_bytes(self, sha256: str) -> bytes | None:
        """The stored bytes of one document, or None when there is no such row."""
        with self.session() as session:
            data = session.scalar(select(DOCUMENTS.c.data).where(DOCUMENTS.c.sha256 == sha256))
            return None if data is None else bytes(data)

    def notice_rows(self) -> Iterator[tuple[str, str, str, int]]:
        """(digest, ocid, release_id, stage) of every stored notice."""
        query = select(NOTICES.c.digest, NOTICES.c.ocid, NOTICES.c.release_id, NOTICES.c.stage)
        with self.session() as session:
            for row in session.execute(query.order_by(NOTICES.c.received_at)):
                yield row.digest, row.ocid, row.release_id, row.stage
