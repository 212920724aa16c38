"""The evidence store: exact notice bytes, receipts, and the outbox of chain work.

SQLite by default (WAL, synchronous=FULL: a committed outbox row survives a kill at
any point); any SQLAlchemy URL works the same way, PostgreSQL included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import StoreError
from backend.store.models import (
    SCHEMA_VERSION,
    ApiTokenRow,
    Base,
    DocumentRow,
    Meta,
    NoticeRow,
    OutboxRow,
    ReceiptRow,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000
OUTBOX_STATUSES = ("pending", "sent", "anchored", "final", "refused")
OPEN_STATUSES = ("pending", "sent", "anchored")


@dataclass(frozen=True)
class OutboxEntry:
    """A detached copy of an outbox row."""

    id: int
    kind: str
    subject: str
    ocid: str
    release_id: str
    agency: str
    payload: dict[str, Any]
    status: str
    attempts: int
    error: str | None
    error_name: str | None
    sender: str | None
    nonce: int | None
    tx_hash: str | None
    raw_tx: str | None


@dataclass(frozen=True)
class NewOutboxItem:
    kind: str
    subject: str
    agency: str
    payload: dict[str, Any]
    ocid: str = ""
    release_id: str = ""


@dataclass(frozen=True)
class StoredNotice:
    """What ``keep_notices`` needs of a notice."""

    digest: bytes
    ocid: str
    release_id: str
    stage: int
    canonical: bytes | None
    document_sha256: str
    pointer: str
    source: str


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        ocid=row.ocid,
        release_id=row.release_id,
        agency=row.agency,
        payload=json.loads(row.payload),
        status=row.status,
        attempts=row.attempts,
        error=row.error,
        error_name=row.error_name,
        sender=row.sender,
        nonce=row.nonce,
        tx_hash=row.tx_hash,
        raw_tx=row.raw_tx,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


class EvidenceStore:
    """Documents, notices, outbox and receipts behind one SQLAlchemy engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = self._engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            Base.metadata.create_all(self.engine)
        except OperationalError as exc:
            raise StoreError(f"cannot open the evidence store at {url}: {exc.orig}") from exc
        self._check_version()

    @staticmethod
    def _engine(url: str) -> Engine:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)

    def _check_version(self) -> None:
        with self.session() as session:
            row = session.get(Meta, "schema_version")
            if row is None:
                session.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
            elif row.value != str(SCHEMA_VERSION):
                raise StoreError(
                    f"evidence store schema version {row.value}, this version needs {SCHEMA_VERSION}"
                )

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- documents and notices

    def keep_document(self, data: bytes, *, sha256: str, name: str) -> None:
        """Store a file's exact bytes once (idempotent by SHA-256)."""
        with self.session() as session:
            if session.get(DocumentRow, sha256) is None:
                session.add(DocumentRow(sha256=sha256, name=name[:1024], size=len(data), data=data))

    def keep_notices(self, notices: Sequence[StoredNotice]) -> None:
        """Store notices (idempotent by digest)."""
        if not notices:
            return
        with self.session() as session:
            digests = [n.digest.hex() for n in notices]
            known = set(session.scalars(select(NoticeRow.digest).where(NoticeRow.digest.in_(digests))))
            for notice in notices:
                hex_digest = notice.digest.hex()
                if hex_digest in known:
                    continue
                known.add(hex_digest)
                session.add(
                    NoticeRow(
                        digest=hex_digest,
                        ocid=notice.ocid,
                        release_id=notice.release_id,
                        stage=notice.stage,
                        canonical=notice.canonical,
                        document_sha256=notice.document_sha256,
                        pointer=notice.pointer,
                        source=notice.source[:2048],
                    )
                )

    def notice_source(self, digest: bytes) -> tuple[bytes, str] | None:
        """The exact bytes of the file that held the notice with ``digest``, and its JSON pointer there."""
        with self.session() as session:
            row = session.get(NoticeRow, digest.hex())
            if row is None:
                return None
            document = session.get(DocumentRow, row.document_sha256)
            return None if document is None else (document.data, row.pointer)

    def document_bytes(self, sha256: str) -> bytes | None:
        with self.session() as session:
            row = session.get(DocumentRow, sha256)
            return None if row is None else row.data

    def notice_rows(self) -> Iterator[tuple[str, str, str, int]]:
        """(digest, ocid, release_id, stage) of every stored notice."""
        with self.session() as session:
            for row in session.execute(
                select(NoticeRow.digest, NoticeRow.ocid, NoticeRow.release_id, NoticeRow.stage).order_by(
                    NoticeRow.received_at
                )
            ):
                yield row.digest, row.ocid, row.release_id, row.stage

    # ---------------------------------------------------------------- outbox

    def enqueue(self, items: Sequence[NewOutboxItem]) -> list[OutboxEntry]:
        """Add work to the outbox, committed before returning. An item whose subject is
        already there (a resubmission) is not added again: its existing row is returned,
        reopened if it had been refused."""
        if not items:
            return []
        with self.session() as session:
            for item in items:
                existing = session.scalar(
                    select(OutboxRow).where(OutboxRow.kind == item.kind, OutboxRow.subject == item.subject)
                )
                if existing is not None and existing.status == "refused":
                    # Submitting a refused notice again is a new attempt: the reason may have passed
                    # (a deadline), and a permanent one is found again before any transaction is sent.
                    existing.status, existing.error, existing.error_name = "pending", None, None
                    existing.payload = json.dumps(item.payload, sort_keys=True)
                    existing.agency = item.agency
                if existing is None:
                    session.add(
                        OutboxRow(
                            kind=item.kind,
                            subject=item.subject,
                            ocid=item.ocid,
                            release_id=item.release_id,
                            agency=item.agency,
                            payload=json.dumps(item.payload, sort_keys=True),
                        )
                    )
                    try:
                        session.flush()
                    except IntegrityError:  # a concurrent writer added it first
                        session.rollback()
        return self.outbox_by_subjects([(i.kind, i.subject) for i in items])

    def outbox_by_subjects(self, subjects: Iterable[tuple[str, str]]) -> list[OutboxEntry]:
        wanted = list(subjects)
        with self.session() as session:
            rows = {
                (r.kind, r.subject): r
                for r in session.scalars(
                    select(OutboxRow).where(OutboxRow.subject.in_([s for _, s in wanted]))
                )
            }
            return [_entry(rows[key]) for key in wanted if key in rows]

    def outbox(
        self, *, statuses: Sequence[str] = OPEN_STATUSES, kind: str | None = None, limit: int | None = None
    ) -> list[OutboxEntry]:
        """Outbox rows in the order they were written."""
        with self.session() as session:
            query = select(OutboxRow).where(OutboxRow.status.in_(list(statuses))).order_by(OutboxRow.id)
            if kind is not None:
                query = query.where(OutboxRow.kind == kind)
            if limit is not None:
                query = query.limit(limit)
            return [_entry(row) for row in session.scalars(query)]

    def outbox_entry(self, entry_id: int) -> OutboxEntry | None:
        with self.session() as session:
            row = session.get(OutboxRow, entry_id)
            return None if row is None else _entry(row)

    def mark_sent(self, ids: Sequence[int], *, sender: str, nonce: int, tx_hash: str, raw_tx: str) -> None:
        """Record the signed transaction *before* it is broadcast (write-ahead)."""
        with self.session() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(ids)))
                .values(
                    status="sent",
                    sender=sender,
                    nonce=nonce,
                    tx_hash=tx_hash,
                    raw_tx=raw_tx,
                    attempts=OutboxRow.attempts + 1,
                    error=None,
                    error_name=None,
                )
            )

    def set_status(
        self,
        ids: Sequence[int],
        status: str,
        *,
        error: str | None = None,
        error_name: str | None = None,
        clear_tx: bool = False,
    ) -> None:
        if status not in OUTBOX_STATUSES:
            raise ValueError(f"unknown outbox status {status!r}")
        values: dict[str, Any] = {"status": status, "error": error, "error_name": error_name}
        if clear_tx:
            values.update(sender=None, nonce=None, tx_hash=None, raw_tx=None)
        with self.session() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id.in_(list(ids))).values(**values))

    # ---------------------------------------------------------------- receipts

    def save_receipts(self, receipts: Sequence[dict[str, Any]], *, final: bool = False) -> None:
        """Store (or replace) receipts, keyed by notice digest."""
        with self.session() as session:
            for receipt in receipts:
                notice, anchor = receipt["notice"], receipt["anchor"]
                digest = notice["digest"].removeprefix("0x")
                row = session.get(ReceiptRow, digest)
                batch = receipt.get("batch")
                values = dict(
                    ocid=notice["ocid"],
                    release_id=notice["release_id"],
                    tx_hash=anchor["tx_hash"],
                    block_number=anchor["block_number"],
                    block_hash=anchor["block_hash"],
                    batch_root=batch["root"].removeprefix("0x") if batch else None,
                    final=final,
                    body=json.dumps(receipt, sort_keys=True),
                )
                if row is None:
                    session.add(ReceiptRow(digest=digest, **values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)

    def receipt(self, digest: bytes) -> dict[str, Any] | None:
        with self.session() as session:
            row = session.get(ReceiptRow, digest.hex())
            return None if row is None else dict(json.loads(row.body))

    def receipts(self, digests: Sequence[bytes]) -> dict[bytes, dict[str, Any]]:
        found: dict[bytes, dict[str, Any]] = {}
        with self.session() as session:
            for start in range(0, len(digests), 500):
                chunk = [d.hex() for d in digests[start : start + 500]]
                for row in session.scalars(select(ReceiptRow).where(ReceiptRow.digest.in_(chunk))):
                    found[bytes.fromhex(row.digest)] = json.loads(row.body)
        return found

    def receipts_not_final(self) -> list[dict[str, Any]]:
        with self.session() as session:
            return [
                json.loads(r.body)
                for r in session.scalars(
                    select(ReceiptRow).where(ReceiptRow.final.is_(False)).order_by(ReceiptRow.block_number)
                )
            ]

    def mark_final(self, digests: Sequence[str]) -> None:
        with self.session() as session:
            session.execute(update(ReceiptRow).where(ReceiptRow.digest.in_(list(digests))).values(final=True))

    def drop_receipts(self, digests: Sequence[str]) -> None:
        """Forget receipts whose block left the chain (reorg, node restored from older state)."""
        with self.session() as session:
            for digest in digests:
                row = session.get(ReceiptRow, digest)
                if row is not None:
                    session.delete(row)

    def all_receipts(self) -> Iterator[dict[str, Any]]:
        with self.session() as session:
            for row in session.scalars(select(ReceiptRow).order_by(ReceiptRow.block_number)):
                yield json.loads(row.body)

    # ---------------------------------------------------------------- API tokens

    def add_token(self, agency: str, token_sha256: str) -> None:
        with self.session() as session:
            session.add(ApiTokenRow(agency=agency, token_sha256=token_sha256))

    def agency_of_token(self, token_sha256: str) -> str | None:
        with self.session() as session:
            row = session.scalar(
                select(ApiTokenRow).where(
                    ApiTokenRow.token_sha256 == token_sha256, ApiTokenRow.revoked.is_(False)
                )
            )
            return None if row is None else row.agency
