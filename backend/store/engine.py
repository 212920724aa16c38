"""The evidence store's database: engine, schema version, sessions, paging and row views.

SQLite by default (WAL, synchronous=FULL: a committed outbox row survives a kill at
any point); any SQLAlchemy URL works the same way, PostgreSQL included. A database
URL may hold a password: errors show it masked (``redaction``), never as given.

Each table family (``documents``, ``outbox``, ``receipts``, ``tokens``, ``manifests``)
declares its tables on :class:`Base` and reads them through a :class:`Database`, with
the helpers below: one way to page keys into ``IN (...)`` lists, one way to insert
only what is new, one way to turn a row into a detached dataclass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from sqlalchemy import Connection, Engine, String, Table, create_engine, event, insert, select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from backend.errors import StoreError
from backend.redaction import database_url_for_people, database_url_secrets, scrub

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

SCHEMA_VERSION = 3
# 3: outbox rows keyed by (kind, agency, subject); API tokens expire.

SQLITE_BUSY_TIMEOUT_MS = 30_000
PAGE_ROWS = 500
"""Keys per ``IN (...)`` list (well under SQLite's bound-parameter limit), rows per streamed page."""

K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound="DataclassInstance")


class Base(DeclarativeBase):
    """The evidence store's tables."""


class Meta(Base):
    """One row: the schema version this database was made with."""

    __tablename__ = "store_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


# ---------------------------------------------------------------- paging and rows


def pages(keys: Iterable[K], size: int = PAGE_ROWS) -> Iterator[list[K]]:
    """``keys`` without repeats, in lists of at most ``size``: one list per ``IN (...)`` clause."""
    page: list[K] = []
    for key in dict.fromkeys(keys):
        page.append(key)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def known_keys(executor: Session | Connection, column: Any, keys: Iterable[K]) -> set[K]:
    """Those of ``keys`` already in ``column``."""
    found: set[K] = set()
    for page in pages(keys):
        found.update(executor.scalars(select(column).where(column.in_(page))))
    return found


def insert_new(connection: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert those of ``rows`` whose ``key`` column is not in ``table`` yet (the first of repeats)."""
    known = known_keys(connection, table.c[key], [row[key] for row in rows])
    new: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row[key] not in known and row[key] not in new:
            new[row[key]] = row
    if new:
        connection.execute(insert(table), list(new.values()))


def row_view(view: type[V], row: Any, **parsed: Any) -> V:
    """A ``view`` dataclass of ``row`` (an ORM or a Core row): each field the row's column of the
    same name, unless ``parsed`` gives its value."""
    names = _field_names(view)
    return view(**{name: parsed[name] if name in parsed else getattr(row, name) for name in names})


@cache
def _field_names(view: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(view))


# ---------------------------------------------------------------- the database


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


class Database:
    """One SQLAlchemy engine and its sessions; opening it creates the ``tables`` and checks the
    schema version."""

    tables: ClassVar[tuple[type[Base], ...]] = ()
    """The tables this database holds (besides :class:`Meta`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.public_url = database_url_for_people(url)
        """The URL fit for messages and logs: its password masked."""
        self._secrets = database_url_secrets(url)
        try:
            self.engine: Engine = self._engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise self.error(
                "use", exc, hint="check TENDERLEDGER_DATABASE_URL and that its database driver is installed"
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            families: list[type[Base]] = [Meta, *self.tables]
            Base.metadata.create_all(self.engine, tables=[cast(Table, cls.__table__) for cls in families])
        except OperationalError as exc:
            # ``from None``: the driver's exception quotes connection details, password included.
            raise self.error("open", exc.orig) from None
        self._check_version()

    def error(self, doing: str, cause: BaseException | None, *, hint: str | None = None) -> StoreError:
        """A StoreError saying what could not be done with this store, and why, without its secrets."""
        text = " ".join(str(cause).split()) if cause is not None else ""
        return StoreError(
            f"cannot {doing} the evidence store at {self.public_url}: {scrub(text, self._secrets)}", hint=hint
        )

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
        """A session committed when the block ends, rolled back if it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    def stream(self, query: Any, *, size: int = PAGE_ROWS) -> Iterator[Any]:
        """The rows of ``query``, fetched ``size`` at a time: one page in memory, never a whole table."""
        with self.session() as session:
            yield from session.execute(query.execution_options(yield_per=size))

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()
