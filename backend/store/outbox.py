"""The outbox: work for the chain, written and committed before any transaction is sent.

What a row is (a :class:`WorkKind`) and where it stands (an :class:`OutboxStatus`) are
defined here once. Every layer that asks "is this still owed to the chain?" or "has
this a receipt?" asks these enums, never a tuple of strings of its own: such tuples
drifted apart before (one counted ``anchored`` as open, another did not).

Rows are keyed by (kind, agency, subject): two agencies submitting the same bytes hold
two rows, and neither is ever settled, reopened or reported with the other's anchor. A
crash leaves rows in pending or sent; recovery looks them up on chain (by key, digest
or tx hash) before sending anything again. A row goes from anchored (or final) back to
pending, its receipts dropped, when the chain loses its block (a reorg, a node restored
from older state).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.store.engine import PAGE_ROWS, Base, Database, insert_new, pages, row_view


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


class OutboxRow(Base):
    """Work for the chain; see the module's docstring for how its status moves."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "agency", "subject", name="uq_outbox_agency_subject"),
        Index("ix_outbox_subject", "subject"),
        Index("ix_outbox_status", "status", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # WorkKind
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


# The tables themselves, for bulk statements that skip the ORM's per-row work.
OUTBOX = cast(Table, OutboxRow.__table__)
SENT = cast(Table, SentTransactionRow.__table__)

OutboxKey = tuple[str, str, str]
"""What identifies an outbox row: (kind, agency, subject)."""


@dataclass(frozen=True, slots=True)
class OutboxRowView:
    """An outbox row without its payload, its columns as stored (an audit reads rows edited by hand)."""

    id: int
    kind: str
    subject: str
    ocid: str
    release_id: str
    agency: str
    status: str
    tx_hash: str | None


@dataclass(frozen=True)
class OutboxEntry(OutboxRowView):
    """A detached copy of an outbox row: its kind and status known, its payload read."""

    kind: WorkKind
    status: OutboxStatus
    payload: dict[str, Any]
    attempts: int
    error: str | None
    error_name: str | None
    sender: str | None
    nonce: int | None

    @property
    def key(self) -> OutboxKey:
        """(kind, agency, subject): what the outbox knows this row by."""
        return (self.kind, self.agency, self.subject)


@dataclass(frozen=True)
class NewOutboxItem:
    """Work to add to the outbox (see :meth:`OutboxStore.enqueue`)."""

    kind: str
    subject: str
    agency: str
    payload: dict[str, Any]
    ocid: str = ""
    release_id: str = ""

    @property
    def key(self) -> OutboxKey:
        """(kind, agency, subject): the row this item is, or would be."""
        return (WorkKind(self.kind), self.agency, self.subject)


NO_TRANSACTION: Final[dict[str, Any]] = {"sender": None, "nonce": None, "tx_hash": None}
"""Outbox values that forget a row's transaction (it will be signed and sent afresh)."""


def entry(row: Any) -> OutboxEntry:
    """An OutboxEntry from an ORM row or a Core row of the outbox."""
    return row_view(
        OutboxEntry,
        row,
        kind=WorkKind(row.kind),
        status=OutboxStatus(row.status),
        payload=json.loads(row.payload),
    )


def settled_first(row: OutboxRowView) -> tuple[bool, int]:
    """Sort key among the rows of one subject: a settled one (the anchor's own) first, then by age."""
    return (row.status not in SETTLED_STATUSES, row.id)


def update_rows(executor: Session | Connection, ids: Sequence[int], **values: Any) -> None:
    """Set ``values`` on the outbox rows ``ids`` (``updated_at`` follows on its own)."""
    for page in pages(ids):
        executor.execute(update(OUTBOX).where(OUTBOX.c.id.in_(page)).values(**values))


def rows_of_subjects(
    executor: Session | Connection,
    subjects: Iterable[str],
    *,
    kind: str | None = None,
    agency: str | None = None,
    size: int = PAGE_ROWS,
) -> Iterator[Any]:
    """The outbox rows of these subjects (of ``kind`` and ``agency`` if given), oldest first in each page."""
    query = select(OUTBOX).order_by(OUTBOX.c.id)
    if kind is not None:
        query = query.where(OUTBOX.c.kind == kind)
    if agency is not None:
        query = query.where(OUTBOX.c.agency == agency)
    for page in pages(subjects, size):
        yield from executor.execute(query.where(OUTBOX.c.subject.in_(page)))


def rows_in(statuses: Sequence[str], *, kind: str | None = None) -> Select[Any]:
    """The query of the outbox rows in one of ``statuses``, in the order they were written."""
    query = select(OUTBOX).where(OUTBOX.c.status.in_(list(statuses))).order_by(OUTBOX.c.id)
    return query if kind is None else query.where(OUTBOX.c.kind == kind)


class OutboxStore(Database):
    """The outbox of an evidence store, and the signed transactions its rows were sent in."""

    def enqueue(self, items: Sequence[NewOutboxItem]) -> list[OutboxEntry]:
        """Add work to the outbox, committed before returning. An item already there for
        the same agency (a resubmission) is not added again: its existing row is returned,
        reopened if it had been refused. The same subject from another agency is other work."""
        if not items:
            return []
        for attempt in range(2):
            try:
                with self.session() as session:
                    _enqueue(session.connection(), items)
                break
            except IntegrityError:  # a concurrent writer added some of them first: take theirs
                if attempt:
                    raise
        return self.outbox_by_keys([item.key for item in items])

    def outbox_by_keys(self, keys: Iterable[OutboxKey]) -> list[OutboxEntry]:
        """The rows with these (kind, agency, subject) keys, in the order asked (unknown keys left out)."""
        wanted = [(WorkKind(kind), agency, subject) for kind, agency, subject in keys]
        with self.session() as session:
            found = {e.key: e for e in map(entry, rows_of_subjects(session, (s for _, _, s in wanted)))}
        return [found[key] for key in wanted if key in found]

    def outbox_by_subjects(
        self, subjects: Iterable[tuple[str, str]], *, agency: str | None = None
    ) -> list[OutboxEntry]:
        """The rows of these (kind, subject) pairs: ``agency``'s, or when it is None every agency's
        (settled rows first, then by age), in the order asked."""
        wanted = [(WorkKind(kind), subject) for kind, subject in subjects]
        by_subject: dict[tuple[str, str], list[OutboxEntry]] = {}
        with self.session() as session:
            for row in rows_of_subjects(session, (subject for _, subject in wanted), agency=agency):
                found = entry(row)
                by_subject.setdefault((found.kind, found.subject), []).append(found)
        return [
            e for key in dict.fromkeys(wanted) for e in sorted(by_subject.get(key, []), key=settled_first)
        ]

    def outbox(
        self, *, statuses: Sequence[str] = OPEN_STATUSES, kind: str | None = None, limit: int | None = None
    ) -> list[OutboxEntry]:
        """Outbox rows in the order they were written."""
        query = rows_in(statuses, kind=kind)
        with self.session() as session:
            return [entry(row) for row in session.execute(query if limit is None else query.limit(limit))]

    def outbox_entry(self, entry_id: int) -> OutboxEntry | None:
        """The outbox row ``entry_id``, if there is one."""
        with self.session() as session:
            row = session.get(OutboxRow, entry_id)
            return None if row is None else entry(row)

    def count_outbox(self, statuses: Sequence[str] = OPEN_STATUSES) -> int:
        """How many outbox rows are in one of ``statuses`` (by default: the backlog not yet on chain).

        Raises StoreError when the database cannot answer.
        """
        query = select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status.in_(list(statuses)))
        try:
            with self.session() as session:
                return int(session.scalar(query) or 0)
        except SQLAlchemyError as exc:
            raise self.error("query", exc) from None

    def mark_sent(self, ids: Sequence[int], *, sender: str, nonce: int, tx_hash: str, raw_tx: str) -> None:
        """Record the signed transaction *before* it is broadcast (write-ahead)."""
        self.mark_sent_many([(ids, sender, nonce, tx_hash, raw_tx)])

    def mark_sent_many(self, sends: Sequence[tuple[Sequence[int], str, int, str, str]]) -> None:
        """``mark_sent`` for several transactions in one commit: (ids, sender, nonce, hash, raw) each."""
        with self.session() as session:
            connection = session.connection()
            signed = [{"tx_hash": h, "sender": s, "nonce": n, "raw_tx": r} for _, s, n, h, r in sends]
            insert_new(connection, SENT, "tx_hash", signed)
            for ids, sender, nonce, tx_hash, _ in sends:
                update_rows(
                    connection,
                    ids,
                    status=str(OutboxStatus.SENT),
                    sender=sender,
                    nonce=nonce,
                    tx_hash=tx_hash,
                    attempts=OUTBOX.c.attempts + 1,
                    error=None,
                    error_name=None,
                )

    def sent_transaction(self, tx_hash: str) -> str | None:
        """The signed bytes recorded for ``tx_hash`` (hex), to broadcast them again."""
        with self.session() as session:
            row = session.get(SentTransactionRow, tx_hash)
            return None if row is None else row.raw_tx

    def set_status(
        self,
        ids: Sequence[int],
        status: str,
        *,
        error: str | None = None,
        error_name: str | None = None,
        clear_tx: bool = False,
    ) -> None:
        """Move the rows ``ids`` to ``status`` with this error (or none), forgetting their
        transaction when ``clear_tx``."""
        values: dict[str, Any] = {
            "status": str(OutboxStatus(status)),
            "error": error,
            "error_name": error_name,
        }
        if clear_tx:
            values.update(NO_TRANSACTION)
        with self.session() as session:
            update_rows(session, ids, **values)


def _enqueue(connection: Connection, items: Sequence[NewOutboxItem]) -> None:
    """Insert the items not in the outbox yet, and reopen the refused rows submitted again."""
    existing: dict[OutboxKey, Any] = {}
    for kind, agency in {(item.kind, item.agency) for item in items}:
        subjects = [item.subject for item in items if (item.kind, item.agency) == (kind, agency)]
        for row in rows_of_subjects(connection, subjects, kind=kind, agency=agency):
            existing[(WorkKind(row.kind), row.agency, row.subject)] = row
    new_rows: dict[OutboxKey, dict[str, Any]] = {}
    reopened: dict[int, str] = {}
    for item in items:
        key = item.key
        found = existing.get(key)
        if found is None and key not in new_rows:
            new_rows[key] = {
                "kind": str(WorkKind(item.kind)),
                "subject": item.subject,
                "ocid": item.ocid,
                "release_id": item.release_id,
                "agency": item.agency,
                "payload": json.dumps(item.payload, sort_keys=True),
                "status": str(OutboxStatus.PENDING),
                "attempts": 0,
            }
        elif found is not None and found.status == OutboxStatus.REFUSED and found.id not in reopened:
            # Submitting a refused notice again is a new attempt: the reason may have passed
            # (a deadline), and a permanent one is found again before any transaction is sent.
            reopened[found.id] = json.dumps(item.payload, sort_keys=True)
    for row_id, payload in reopened.items():
        update_rows(
            connection,
            [row_id],
            status=str(OutboxStatus.PENDING),
            error=None,
            error_name=None,
            payload=payload,
        )
    if new_rows:
        connection.execute(insert(OUTBOX), list(new_rows.values()))
