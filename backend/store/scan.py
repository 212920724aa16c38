"""Read-only scans of the evidence store's rows as they are, for the audit against the chain.

The rest of the store hands out what the service needs (receipts as documents, outbox
entries); an audit needs the rows themselves, columns and all, since any of them may
have been edited by hand. Every function here reads only, and the scans stream: they
hold one page of rows at a time, never a whole table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select

from backend.store import EvidenceStore
from backend.store.models import DocumentRow, NoticeRow, OutboxRow, ReceiptRow
from backend.store.states import SETTLED_STATUSES

PAGE_ROWS = 500
"""Rows fetched per round trip by a streaming scan, and keys per ``IN (...)`` lookup."""


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


@dataclass(frozen=True, slots=True)
class NoticeRowView:
    """A notices row: what it says of the notice, and where its exact bytes are."""

    digest: str
    ocid: str
    release_id: str
    stage: int
    canonical: bytes | None
    document_sha256: str
    pointer: str


@dataclass(frozen=True, slots=True)
class OutboxRowView:
    """An outbox row, without its payload."""

    id: int
    kind: str
    subject: str
    ocid: str
    release_id: str
    agency: str
    status: str
    tx_hash: str | None


def _receipt(row: ReceiptRow) -> ReceiptRowView:
    return ReceiptRowView(
        digest=row.digest,
        ocid=row.ocid,
        release_id=row.release_id,
        tx_hash=row.tx_hash,
        block_number=int(row.block_number),
        block_hash=row.block_hash,
        batch_root=row.batch_root,
        body=row.body,
    )


def _notice(row: NoticeRow) -> NoticeRowView:
    return NoticeRowView(
        digest=row.digest,
        ocid=row.ocid,
        release_id=row.release_id,
        stage=int(row.stage),
        canonical=row.canonical,
        document_sha256=row.document_sha256,
        pointer=row.pointer,
    )


def _outbox(row: OutboxRow) -> OutboxRowView:
    return OutboxRowView(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        ocid=row.ocid,
        release_id=row.release_id,
        agency=row.agency,
        status=row.status,
        tx_hash=row.tx_hash,
    )


def _pages(keys: Iterable[str]) -> Iterator[list[str]]:
    page: list[str] = []
    for key in dict.fromkeys(keys):
        page.append(key)
        if len(page) == PAGE_ROWS:
            yield page
            page = []
    if page:
        yield page


# ---------------------------------------------------------------- lookups by key


def receipts_by_digest(store: EvidenceStore, digests: Iterable[str]) -> dict[str, ReceiptRowView]:
    """The receipts rows whose key is one of ``digests`` (64 hex digits, no 0x)."""
    found: dict[str, ReceiptRowView] = {}
    with store.session() as session:
        for page in _pages(digests):
            for row in session.scalars(select(ReceiptRow).where(ReceiptRow.digest.in_(page))):
                found[row.digest] = _receipt(row)
    return found


def notices_by_digest(store: EvidenceStore, digests: Iterable[str]) -> dict[str, NoticeRowView]:
    """The notices rows whose key is one of ``digests``."""
    found: dict[str, NoticeRowView] = {}
    with store.session() as session:
        for page in _pages(digests):
            for row in session.scalars(select(NoticeRow).where(NoticeRow.digest.in_(page))):
                found[row.digest] = _notice(row)
    return found


def outbox_by_subject(
    store: EvidenceStore, subjects: Iterable[str], *, kind: str
) -> dict[str, OutboxRowView]:
    """The outbox row of ``kind`` for each of ``subjects``.

    Rows are keyed by (kind, agency, subject): when several agencies submitted the same
    subject, the one that settled (the anchor's own) stands for it, else the oldest.
    """
    found: dict[str, OutboxRowView] = {}
    with store.session() as session:
        for page in _pages(subjects):
            query = (
                select(OutboxRow)
                .where(OutboxRow.kind == kind, OutboxRow.subject.in_(page))
                .order_by(OutboxRow.id)
            )
            for row in session.scalars(query):
                known = found.get(row.subject)
                if known is None or (_settled(row.status) and not _settled(known.status)):
                    found[row.subject] = _outbox(row)
    return found


def _settled(status: str) -> bool:
    return status in SETTLED_STATUSES


def document_data(store: EvidenceStore, sha256: str) -> bytes | None:
    """The stored bytes of one document, or None when there is no such row."""
    with store.session() as session:
        data = session.scalar(select(DocumentRow.data).where(DocumentRow.sha256 == sha256))
        return None if data is None else bytes(data)


# ---------------------------------------------------------------- streaming scans


def receipts_in_blocks(store: EvidenceStore, low: int, high: int) -> Iterator[ReceiptRowView]:
    """Receipts rows that say their notice is in a block from ``low`` to ``high``, by block."""
    query = (
        select(ReceiptRow)
        .where(ReceiptRow.block_number >= low, ReceiptRow.block_number <= high)
        .order_by(ReceiptRow.block_number, ReceiptRow.digest)
    )
    with store.session() as session:
        for row in session.scalars(query.execution_options(yield_per=PAGE_ROWS)):
            yield _receipt(row)


def receipts_outside_blocks(store: EvidenceStore, low: int, high: int) -> Iterator[ReceiptRowView]:
    """Receipts rows that name a block before ``low`` or after ``high``."""
    query = (
        select(ReceiptRow)
        .where(or_(ReceiptRow.block_number < low, ReceiptRow.block_number > high))
        .order_by(ReceiptRow.block_number, ReceiptRow.digest)
    )
    with store.session() as session:
        for row in session.scalars(query.execution_options(yield_per=PAGE_ROWS)):
            yield _receipt(row)


def notices_by_document(store: EvidenceStore) -> Iterator[NoticeRowView]:
    """Every notices row, grouped by the document that holds its bytes."""
    query = select(NoticeRow).order_by(NoticeRow.document_sha256, NoticeRow.digest)
    with store.session() as session:
        for row in session.scalars(query.execution_options(yield_per=PAGE_ROWS)):
            yield _notice(row)


def outbox_rows(store: EvidenceStore, *, statuses: Sequence[str]) -> Iterator[OutboxRowView]:
    """Outbox rows in one of ``statuses``, in the order they were written."""
    query = select(OutboxRow).where(OutboxRow.status.in_(list(statuses))).order_by(OutboxRow.id)
    with store.session() as session:
        for row in session.scalars(query.execution_options(yield_per=PAGE_ROWS)):
            yield _outbox(row)
