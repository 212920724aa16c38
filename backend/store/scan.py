"""Read-only scans of the evidence store's rows as they are, for the audit against the chain.

The rest of the store hands out what the service needs (receipts as documents, outbox
entries); an audit needs the rows themselves, columns and all, since any of them may
have been edited by hand. Every function here reads only, and the scans stream: they
hold one page of rows at a time, never a whole table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Table, or_, select

from backend.store.documents import NOTICES, NoticeRowView
from backend.store.engine import PAGE_ROWS, pages, row_view
from backend.store.evidence import EvidenceStore
from backend.store.outbox import OutboxRowView, rows_in, rows_of_subjects, settled_first
from backend.store.receipts import RECEIPTS, ReceiptRowView

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "PAGE_ROWS",
    "NoticeRowView",
    "OutboxRowView",
    "ReceiptRowView",
    "document_data",
    "notices_by_digest",
    "notices_by_document",
    "outbox_by_subject",
    "outbox_rows",
    "receipts_by_digest",
    "receipts_in_blocks",
    "receipts_outside_blocks",
]

V = TypeVar("V", bound="DataclassInstance")


# ---------------------------------------------------------------- lookups by key


def _by_digest(store: EvidenceStore, table: Table, view: type[V], digests: Iterable[str]) -> dict[str, V]:
    found: dict[str, V] = {}
    with store.session() as session:
        for page in pages(digests, PAGE_ROWS):
            for row in session.execute(select(table).where(table.c.digest.in_(page))):
                found[row.digest] = row_view(view, row)
    return found


def receipts_by_digest(store: EvidenceStore, digests: Iterable[str]) -> dict[str, ReceiptRowView]:
    """The receipts rows whose key is one of ``digests`` (64 hex digits, no 0x)."""
    return _by_digest(store, RECEIPTS, ReceiptRowView, digests)


def notices_by_digest(store: EvidenceStore, digests: Iterable[str]) -> dict[str, NoticeRowView]:
    """The notices rows whose key is one of ``digests``."""
    return _by_digest(store, NOTICES, NoticeRowView, digests)


def outbox_by_subject(
    store: EvidenceStore, subjects: Iterable[str], *, kind: str
) -> dict[str, OutboxRowView]:
    """The outbox row of ``kind`` for each of ``subjects``.

    Rows are keyed by (kind, agency, subject): when several agencies submitted the same
    subject, the one that settled (the anchor's own) stands for it, else the oldest.
    """
    found: dict[str, OutboxRowView] = {}
    with store.session() as session:
        for row in rows_of_subjects(session, subjects, kind=kind, size=PAGE_ROWS):
            view = row_view(OutboxRowView, row)
            known = found.get(view.subject)
            if known is None or settled_first(view) < settled_first(known):
                found[view.subject] = view
    return found


def document_data(store: EvidenceStore, sha256: str) -> bytes | None:
    """The stored bytes of one document, or None when there is no such row."""
    return store.document_bytes(sha256)


# ---------------------------------------------------------------- streaming scans


def _stream(store: EvidenceStore, view: type[V], query: Any) -> Iterator[V]:
    return (row_view(view, row) for row in store.stream(query, size=PAGE_ROWS))


def receipts_in_blocks(store: EvidenceStore, low: int, high: int) -> Iterator[ReceiptRowView]:
    """Receipts rows that say their notice is in a block from ``low`` to ``high``, by block."""
    block = RECEIPTS.c.block_number
    return _stream(store, ReceiptRowView, _receipts_by_block().where(block >= low, block <= high))


def receipts_outside_blocks(store: EvidenceStore, low: int, high: int) -> Iterator[ReceiptRowView]:
    """Receipts rows that name a block before ``low`` or after ``high``."""
    block = RECEIPTS.c.block_number
    return _stream(store, ReceiptRowView, _receipts_by_block().where(or_(block < low, block > high)))


def _receipts_by_block() -> Any:
    return select(RECEIPTS).order_by(RECEIPTS.c.block_number, RECEIPTS.c.digest)


def notices_by_document(store: EvidenceStore) -> Iterator[NoticeRowView]:
    """Every notices row, grouped by the document that holds its bytes."""
    query = select(NOTICES).order_by(NOTICES.c.document_sha256, NOTICES.c.digest)
    return _stream(store, NoticeRowView, query)


def outbox_rows(store: EvidenceStore, *, statuses: Sequence[str]) -> Iterator[OutboxRowView]:
    """Outbox rows in one of ``statuses``, in the order they were written."""
    return _stream(store, OutboxRowView, rows_in(statuses))
