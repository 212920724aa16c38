"""The evidence store: exact notice bytes, receipts, and the outbox of chain work.

SQLite by default (WAL, synchronous=FULL: a committed outbox row survives a kill at
any point); any SQLAlchemy URL works the same way, PostgreSQL included. A database
URL may hold a password: errors show it masked (``redaction``), never as given.

The outbox is keyed by (kind, agency, subject): what one agency submitted is never
settled, reopened or reported as another agency's work, even for the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, Table, create_engine, delete, event, insert, select, update
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import StoreError
from backend.redaction import database_url_for_people, database_url_secrets, scrub
from backend.store.models import (
    SCHEMA_VERSION,
    ApiTokenRow,
    Base,
    DocumentRow,
    Meta,
    NoticeRow,
    OutboxRow,
    ReceiptRow,
    SentTransactionRow,
)
from backend.store.states import ALL_STATUSES, OPEN_STATUSES, SETTLED_STATUSES, OutboxStatus, WorkKind

SQLITE_BUSY_TIMEOUT_MS = 30_000
# The tables themselves, for bulk statements that skip the ORM's per-row work.
OUTBOX = cast(Table, OutboxRow.__table__)
RECEIPTS = cast(Table, ReceiptRow.__table__)
NOTICES = cast(Table, NoticeRow.__table__)
DOCUMENTS = cast(Table, DocumentRow.__table__)
SENT = cast(Table, SentTransactionRow.__table__)
IN_CHUNK = 500  # values per IN (...) list: well under SQLite's bound-parameter limit

T = TypeVar("T")
OUTBOX_STATUSES = ALL_STATUSES  # kept for callers that named the tuple here
OutboxKey = tuple[str, str, str]
"""What identifies an outbox row: (kind, agency, subject)."""


@dataclass(frozen=True)
class OutboxEntry:
    """A detached copy of an outbox row."""

    id: int
    kind: WorkKind
    subject: str
    ocid: str
    release_id: str
    agency: str
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    error: str | None
    error_name: str | None
    sender: str | None
    nonce: int | None
    tx_hash: str | None

    @property
    def key(self) -> OutboxKey:
        """(kind, agency, subject): what the outbox knows this row by."""
        return (self.kind, self.agency, self.subject)


@dataclass(frozen=True)
class NewOutboxItem:
    kind: str
    subject: str
    agency: str
    payload: dict[str, Any]
    ocid: str = ""
    release_id: str = ""

    @property
    def key(self) -> OutboxKey:
        return (WorkKind(self.kind), self.agency, self.subject)


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


_NO_TRANSACTION: dict[str, Any] = {"sender": None, "nonce": None, "tx_hash": None}
"""Outbox values that forget a row's transaction (it will be signed and sent afresh)."""


def _chunks(values: Sequence[T]) -> Iterator[list[T]]:
    """``values`` in lists of at most IN_CHUNK, one per ``IN (...)`` clause."""
    for start in range(0, len(values), IN_CHUNK):
        yield list(values[start : start + IN_CHUNK])


def _update_outbox(executor: Session | Connection, ids: Sequence[int], **values: Any) -> None:
    """Set ``values`` on the outbox rows ``ids`` (``updated_at`` follows on its own)."""
    for chunk in _chunks(ids):
        executor.execute(update(OUTBOX).where(OUTBOX.c.id.in_(chunk)).values(**values))


def _entry(row: Any) -> OutboxEntry:
    """An OutboxEntry from an ORM row or a Core row (same attribute names)."""
    return OutboxEntry(
        id=row.id,
        kind=WorkKind(row.kind),
        subject=row.subject,
        ocid=row.ocid,
        release_id=row.release_id,
        agency=row.agency,
        payload=json.loads(row.payload),
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        error=row.error,
        error_name=row.error_name,
        sender=row.sender,
        nonce=row.nonce,
        tx_hash=row.tx_hash,
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
        self.public_url = database_url_for_people(url)
        """The URL fit for messages and logs: its password masked."""
        self._secrets = database_url_secrets(url)
        try:
            self.engine: Engine = self._engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(
                f"cannot use the evidence store at {self.public_url}: {self._scrub(exc)}",
                hint="check TENDERLEDGER_DATABASE_URL and that its database driver is installed",
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            Base.metadata.create_all(self.engine)
        except OperationalError as exc:
            # ``from None``: the driver's exception quotes connection details, password included.
            raise StoreError(
                f"cannot open the evidence store at {self.public_url}: {self._scrub(exc.orig)}"
            ) from None
        self._check_version()

    def _scrub(self, error: BaseException | None) -> str:
        """An error's text without the database URL's secrets (drivers quote what they were given)."""
        text = " ".join(str(error).split()) if error is not None else ""
        return scrub(text, self._secrets)

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
                    f"evidence store schema version {row.value}, this version needs {SCHEMA_VERSION}",
                    hint="use a new evidence store (TENDERLEDGER_DATABASE_URL, or move evidence.sqlite3 "
                    "away): the chain holds every record, 'audit-store' compares a store with it",
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
        self.keep_documents([(sha256, name, data)])

    def keep_documents(self, documents: Sequence[tuple[str, str, bytes]]) -> None:
        """Store files' exact bytes, (sha256, name, data) each, in one transaction (idempotent)."""
        if not documents:
            return
        with self.session() as session:
            known: set[str] = set()
            hashes = [sha for sha, _, _ in documents]
            for chunk in _chunks(hashes):
                known.update(session.scalars(select(DocumentRow.sha256).where(DocumentRow.sha256.in_(chunk))))
            rows = []
            for sha256, name, data in documents:
                if sha256 not in known:
                    known.add(sha256)
                    rows.append({"sha256": sha256, "name": name[:1024], "size": len(data), "data": data})
            if rows:
                session.connection().execute(insert(DOCUMENTS), rows)

    def keep_notices(self, notices: Sequence[StoredNotice]) -> None:
        """Store notices (idempotent by digest), in one transaction."""
        if not notices:
            return
        with self.session() as session:
            connection = session.connection()
            digests = [n.digest.hex() for n in notices]
            known: set[str] = set()
            for chunk in _chunks(digests):
                known.update(connection.scalars(select(NOTICES.c.digest).where(NOTICES.c.digest.in_(chunk))))
            rows = []
            for notice, hex_digest in zip(notices, digests, strict=True):
                if hex_digest in known:
                    continue
                known.add(hex_digest)
                rows.append(
                    {
                        "digest": hex_digest,
                        "ocid": notice.ocid,
                        "release_id": notice.release_id,
                        "stage": notice.stage,
                        "canonical": notice.canonical,
                        "document_sha256": notice.document_sha256,
                        "pointer": notice.pointer,
                        "source": notice.source[:2048],
                    }
                )
            if rows:
                connection.execute(insert(NOTICES), rows)

    def notice_fields(self, digests: Sequence[bytes]) -> dict[bytes, tuple[str, str, int]]:
        """(ocid, release id, stage) of stored notices, by digest."""
        found: dict[bytes, tuple[str, str, int]] = {}
        hexes = [d.hex() for d in digests]
        with self.session() as session:
            connection = session.connection()
            for chunk in _chunks(hexes):
                for row in connection.execute(
                    select(NOTICES.c.digest, NOTICES.c.ocid, NOTICES.c.release_id, NOTICES.c.stage).where(
                        NOTICES.c.digest.in_(chunk)
                    )
                ):
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
        """Add work to the outbox, committed before returning. An item already there for
        the same agency (a resubmission) is not added again: its existing row is returned,
        reopened if it had been refused. The same subject from another agency is other work."""
        if not items:
            return []
        for attempt in range(2):
            try:
                with self.session() as session:
                    self._enqueue(session, items)
                break
            except IntegrityError:  # a concurrent writer added some of them first: take theirs
                if attempt:
                    raise
        return self.outbox_by_keys([item.key for item in items])

    @staticmethod
    def _enqueue(session: Session, items: Sequence[NewOutboxItem]) -> None:
        existing: dict[OutboxKey, OutboxRow] = {}
        for kind, agency in {(item.kind, item.agency) for item in items}:
            subjects = [item.subject for item in items if (item.kind, item.agency) == (kind, agency)]
            for chunk in _chunks(subjects):
                for row in session.scalars(
                    select(OutboxRow).where(
                        OutboxRow.kind == kind, OutboxRow.agency == agency, OutboxRow.subject.in_(chunk)
                    )
                ):
                    existing[(WorkKind(row.kind), row.agency, row.subject)] = row
        new_rows: dict[OutboxKey, dict[str, Any]] = {}
        for item in items:
            key = item.key
            found = existing.get(key)
            if found is not None and found.status == OutboxStatus.REFUSED:
                # Submitting a refused notice again is a new attempt: the reason may have passed
                # (a deadline), and a permanent one is found again before any transaction is sent.
                found.status, found.error, found.error_name = OutboxStatus.PENDING, None, None
                found.payload = json.dumps(item.payload, sort_keys=True)
            elif found is None and key not in new_rows:
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
        if new_rows:
            session.connection().execute(insert(OUTBOX), list(new_rows.values()))

    def outbox_by_keys(self, keys: Iterable[OutboxKey]) -> list[OutboxEntry]:
        """The rows with these (kind, agency, subject) keys, in the order asked (unknown keys left out)."""
        wanted = [(WorkKind(kind), agency, subject) for kind, agency, subject in keys]
        found: dict[OutboxKey, OutboxEntry] = {}
        with self.session() as session:
            for chunk in _chunks(list(dict.fromkeys(subject for _, _, subject in wanted))):
                for row in session.scalars(select(OutboxRow).where(OutboxRow.subject.in_(chunk))):
                    entry = _entry(row)
                    found[entry.key] = entry
        return [found[key] for key in wanted if key in found]

    def outbox_by_subjects(
        self, subjects: Iterable[tuple[str, str]], *, agency: str | None = None
    ) -> list[OutboxEntry]:
        """The rows of these (kind, subject) pairs: ``agency``'s, or when it is None every agency's
        (settled rows first, then by age), in the order asked."""
        wanted = [(WorkKind(kind), subject) for kind, subject in subjects]
        by_subject: dict[tuple[str, str], list[OutboxEntry]] = {}
        with self.session() as session:
            for chunk in _chunks(list(dict.fromkeys(subject for _, subject in wanted))):
                query = select(OutboxRow).where(OutboxRow.subject.in_(chunk)).order_by(OutboxRow.id)
                if agency is not None:
                    query = query.where(OutboxRow.agency == agency)
                for row in session.scalars(query):
                    entry = _entry(row)
                    by_subject.setdefault((entry.kind, entry.subject), []).append(entry)
        found: list[OutboxEntry] = []
        for key in dict.fromkeys(wanted):
            found += sorted(by_subject.get(key, []), key=lambda e: (not e.status.is_settled, e.id))
        return found

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
        self.mark_sent_many([(ids, sender, nonce, tx_hash, raw_tx)])

    def mark_sent_many(self, sends: Sequence[tuple[Sequence[int], str, int, str, str]]) -> None:
        """``mark_sent`` for several transactions in one commit: (ids, sender, nonce, hash, raw) each."""
        with self.session() as session:
            connection = session.connection()
            hashes = [tx_hash for _, _, _, tx_hash, _ in sends]
            known = set(connection.scalars(select(SENT.c.tx_hash).where(SENT.c.tx_hash.in_(hashes))))
            new = [
                {"tx_hash": h, "sender": s, "nonce": n, "raw_tx": r}
                for _, s, n, h, r in sends
                if h not in known
            ]
            if new:
                connection.execute(insert(SENT), new)
            for ids, sender, nonce, tx_hash, _ in sends:
                _update_outbox(
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
        values: dict[str, Any] = {
            "status": str(OutboxStatus(status)),
            "error": error,
            "error_name": error_name,
        }
        if clear_tx:
            values.update(_NO_TRANSACTION)
        with self.session() as session:
            _update_outbox(session, ids, **values)

    # ---------------------------------------------------------------- receipts

    def save_receipts(self, receipts: Sequence[dict[str, Any]], *, final: bool = False) -> None:
        """Store (or replace) receipts, keyed by notice digest."""
        with self.session() as session:
            self._put_receipts(session, receipts, final=final)

    def settle(self, receipts: Sequence[dict[str, Any]], ids: Sequence[int], *, final: bool) -> None:
        """Store receipts and mark their outbox rows anchored (or final), in one transaction."""
        with self.session() as session:
            self._put_receipts(session, receipts, final=final)
            if ids:
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_(list(ids)))
                    .values(
                        status=str(OutboxStatus.FINAL if final else OutboxStatus.ANCHORED),
                        error=None,
                        error_name=None,
                    )
                )

    @staticmethod
    def _put_receipts(session: Session, receipts: Sequence[dict[str, Any]], *, final: bool) -> None:
        if not receipts:
            return
        connection = session.connection()
        digests = [r["notice"]["digest"].removeprefix("0x") for r in receipts]
        known: set[str] = set()
        for chunk in _chunks(digests):
            known.update(connection.scalars(select(RECEIPTS.c.digest).where(RECEIPTS.c.digest.in_(chunk))))
        new_rows: dict[str, dict[str, Any]] = {}
        for digest, receipt in zip(digests, receipts, strict=True):
            notice, anchor = receipt["notice"], receipt["anchor"]
            batch = receipt.get("batch")
            values = {
                "ocid": notice["ocid"],
                "release_id": notice["release_id"],
                "tx_hash": anchor["tx_hash"],
                "block_number": anchor["block_number"],
                "block_hash": anchor["block_hash"],
                "batch_root": batch["root"].removeprefix("0x") if batch else None,
                "final": final,
                "body": json.dumps(receipt, sort_keys=True),
            }
            if digest in known:
                connection.execute(update(RECEIPTS).where(RECEIPTS.c.digest == digest).values(**values))
            else:
                new_rows[digest] = {"digest": digest, **values}
        if new_rows:
            connection.execute(insert(RECEIPTS), list(new_rows.values()))

    def receipt(self, digest: bytes) -> dict[str, Any] | None:
        with self.session() as session:
            row = session.get(ReceiptRow, digest.hex())
            return None if row is None else dict(json.loads(row.body))

    def receipts(self, digests: Sequence[bytes]) -> dict[bytes, dict[str, Any]]:
        found: dict[bytes, dict[str, Any]] = {}
        with self.session() as session:
            connection = session.connection()
            for chunk in _chunks([d.hex() for d in digests]):
                query = select(RECEIPTS.c.digest, RECEIPTS.c.body).where(RECEIPTS.c.digest.in_(chunk))
                for digest, body in connection.execute(query):
                    found[bytes.fromhex(digest)] = json.loads(body)
        return found

    def receipts_not_final(self) -> list[dict[str, Any]]:
        with self.session() as session:
            return [
                json.loads(r.body)
                for r in session.scalars(
                    select(ReceiptRow).where(ReceiptRow.final.is_(False)).order_by(ReceiptRow.block_number)
                )
            ]

    def mark_final(self, digests: Sequence[str], ids: Sequence[int] = ()) -> None:
        """Receipts (by digest) and their outbox rows (by id) become final, in one transaction."""
        with self.session() as session:
            for chunk in _chunks(digests):
                session.execute(update(RECEIPTS).where(RECEIPTS.c.digest.in_(chunk)).values(final=True))
            _update_outbox(session, ids, status=str(OutboxStatus.FINAL), error=None, error_name=None)

    def drop_receipts(self, digests: Sequence[str], *, reopen: Sequence[int] = ()) -> None:
        """Forget receipts whose block left the chain (reorg, node restored from older state);
        the outbox rows ``reopen`` go back to pending (their transaction forgotten), in the same commit."""
        with self.session() as session:
            for chunk in _chunks(digests):
                session.execute(delete(RECEIPTS).where(RECEIPTS.c.digest.in_(chunk)))
            _update_outbox(
                session,
                reopen,
                status=str(OutboxStatus.PENDING),
                error=None,
                error_name=None,
                **_NO_TRANSACTION,
            )

    def all_receipts(self) -> Iterator[dict[str, Any]]:
        with self.session() as session:
            for row in session.scalars(select(ReceiptRow).order_by(ReceiptRow.block_number)):
                yield json.loads(row.body)

    # ---------------------------------------------------------------- API tokens

    def add_token(self, agency: str, token_sha256: str, *, expires_at: datetime) -> None:
        """Keep the hash of a token issued for ``agency``, live until ``expires_at``."""
        with self.session() as session:
            session.add(ApiTokenRow(agency=agency, token_sha256=token_sha256, expires_at=_utc(expires_at)))

    def agency_of_token(self, token_sha256: str, *, now: datetime | None = None) -> str | None:
        """The agency of a live token: known, not revoked, not expired at ``now``."""
        moment = _utc(now or datetime.now(UTC))
        with self.session() as session:
            row = session.scalar(
                select(ApiTokenRow).where(
                    ApiTokenRow.token_sha256 == token_sha256, ApiTokenRow.revoked.is_(False)
                )
            )
            if row is None or _utc(row.expires_at) <= moment:
                return None
            return row.agency

    def revoke_tokens(self, agency: str) -> tuple[int, int]:
        """Revoke every live token of ``agency``; (revoked now, tokens ever issued to it)."""
        with self.session() as session:
            rows = list(session.scalars(select(ApiTokenRow).where(ApiTokenRow.agency == agency)))
            live = [row for row in rows if not row.revoked]
            stamp = datetime.now(UTC)
            for row in live:
                row.revoked, row.revoked_at = True, stamp
            return len(live), len(rows)


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands back naive ones, which are UTC here)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


__all__ = [
    "OPEN_STATUSES",
    "OUTBOX_STATUSES",
    "SETTLED_STATUSES",
    "EvidenceStore",
    "NewOutboxItem",
    "OutboxEntry",
    "OutboxKey",
    "OutboxStatus",
    "StoredNotice",
    "WorkKind",
]
