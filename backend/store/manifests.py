"""Batch manifests: the ordered leaves of every Merkle batch, kept beside its outbox row.

A manifest is written before its root is sent (like the outbox), so it exists for every
batch this store anchored. It is trusted only as far as it hashes to a root on chain:
readers re-hash it (``backend.core.merkle.member_leaf``) before believing a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Index, Integer, String, Table, Text, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.merkle import member_tree
from backend.core.seal import notice_key
from backend.store.engine import Base, Database, known_keys, pages, row_view


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


MEMBERS = cast(Table, BatchMemberRow.__table__)


@dataclass(frozen=True, slots=True)
class ManifestMember:
    """One leaf of a batch manifest."""

    root: bytes
    leaf_index: int
    ocid: str
    release_id: str
    key: bytes
    digest: bytes
    stage: int
    label: str
    agency: str

    def to_json(self) -> dict[str, object]:
        return {
            "index": self.leaf_index,
            "ocid": self.ocid,
            "release_id": self.release_id,
            "key": "0x" + self.key.hex(),
            "digest": "0x" + self.digest.hex(),
            "stage_code": self.stage,
        }


def manifest_matches(root: bytes, members: Sequence[ManifestMember]) -> bool:
    """Whether ``members`` are the batch behind ``root``: leaves 0..n-1 in order, each key that
    of its (ocid, release id), and the tree of their leaves hashing to the root."""
    return (
        bool(members)
        and [m.leaf_index for m in members] == list(range(len(members)))
        and all(m.key == notice_key(m.ocid, m.release_id) for m in members)
        and member_tree((m.ocid, m.release_id, m.digest) for m in members).root == root
    )


def _member(row: Any) -> ManifestMember:
    return row_view(
        ManifestMember,
        row,
        root=bytes.fromhex(row.root),
        key=bytes.fromhex(row.notice_key),
        digest=bytes.fromhex(row.digest),
    )


class ManifestStore:
    """Reads and writes batch manifests in an evidence store's database."""

    def __init__(self, store: Database) -> None:
        self.store = store

    def keep(self, members: Sequence[ManifestMember]) -> None:
        """Store a batch's leaves (idempotent: a manifest already kept is left as it is)."""
        if not members:
            return
        with self.store.session() as session:
            connection = session.connection()
            known = known_keys(connection, MEMBERS.c.root, (m.root.hex() for m in members))
            rows = [
                {
                    "root": m.root.hex(),
                    "leaf_index": m.leaf_index,
                    "ocid": m.ocid,
                    "release_id": m.release_id,
                    "notice_key": m.key.hex(),
                    "digest": m.digest.hex(),
                    "stage": m.stage,
                    "label": m.label,
                    "agency": m.agency,
                }
                for m in members
                if m.root.hex() not in known
            ]
            if rows:
                connection.execute(insert(MEMBERS), rows)

    def manifest(self, root: bytes) -> list[ManifestMember]:
        """A batch's leaves in order (empty when the store holds no manifest for it)."""
        query = select(MEMBERS).where(MEMBERS.c.root == root.hex()).order_by(MEMBERS.c.leaf_index)
        with self.store.session() as session:
            return [_member(row) for row in session.execute(query)]

    def _where(self, column: Any, values: Iterable[str]) -> list[ManifestMember]:
        found: list[ManifestMember] = []
        with self.store.session() as session:
            for page in pages(values):
                found.extend(_member(row) for row in session.execute(select(MEMBERS).where(column.in_(page))))
        return found

    def members_by_key(self, keys: Iterable[bytes]) -> list[ManifestMember]:
        """Every manifest leaf of these notice keys, in any batch."""
        return self._where(MEMBERS.c.notice_key, (k.hex() for k in keys))

    def members_by_ocid(self, ocids: Iterable[str]) -> list[ManifestMember]:
        """Every manifest leaf of these processes, in any batch."""
        return self._where(MEMBERS.c.ocid, ocids)

    def members_by_digest(self, digests: Iterable[bytes]) -> list[ManifestMember]:
        """Every manifest leaf with one of these digests, in any batch."""
        return self._where(MEMBERS.c.digest, (d.hex() for d in digests))

    def roots(self) -> list[bytes]:
        """Every batch root the store holds a manifest of."""
        with self.store.session() as session:
            return [bytes.fromhex(r) for r in session.scalars(select(MEMBERS.c.root).distinct())]
