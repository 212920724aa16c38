"""Batch manifests: the ordered leaves of every Merkle batch, kept beside its outbox row.

A manifest is written before its root is sent (like the outbox), so it exists for every
batch this store anchored. It is trusted only as far as it hashes to a root on chain:
readers re-hash it (``backend.core.merkle.member_leaf``) before believing a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select

from backend.core.merkle import member_tree
from backend.core.seal import notice_key
from backend.store.models import BatchMemberRow

MEMBERS = cast(Table, BatchMemberRow.__table__)
IN_CHUNK = 500


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


def _member(row: object) -> ManifestMember:
    root, index, ocid, release_id, key, digest, stage, label, agency = cast(tuple[object, ...], row)
    return ManifestMember(
        root=bytes.fromhex(str(root)),
        leaf_index=int(cast(int, index)),
        ocid=str(ocid),
        release_id=str(release_id),
        key=bytes.fromhex(str(key)),
        digest=bytes.fromhex(str(digest)),
        stage=int(cast(int, stage)),
        label=str(label),
        agency=str(agency),
    )


def _columns() -> tuple[Any, ...]:
    c = MEMBERS.c
    return (c.root, c.leaf_index, c.ocid, c.release_id, c.notice_key, c.digest, c.stage, c.label, c.agency)


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield list(values[start : start + IN_CHUNK])


class ManifestStore:
    """Reads and writes batch manifests in an evidence store's database."""

    def __init__(self, store: object) -> None:
        from backend.store import EvidenceStore

        self.store = cast(EvidenceStore, store)

    def keep(self, members: Sequence[ManifestMember]) -> None:
        """Store a batch's leaves (idempotent: a manifest already kept is left as it is)."""
        if not members:
            return
        roots = list({m.root.hex() for m in members})
        with self.store.session() as session:
            connection = session.connection()
            known = set(connection.execute(select(MEMBERS.c.root).where(MEMBERS.c.root.in_(roots))).scalars())
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
        with self.store.session() as session:
            query = select(*_columns()).where(MEMBERS.c.root == root.hex()).order_by(MEMBERS.c.leaf_index)
            return [_member(row) for row in session.connection().execute(query)]

    def _where(self, column: Any, values: Iterable[str]) -> list[ManifestMember]:
        found: list[ManifestMember] = []
        unique = list(dict.fromkeys(values))
        with self.store.session() as session:
            connection = session.connection()
            for chunk in _chunks(unique):
                query = select(*_columns()).where(column.in_(chunk))
                found.extend(_member(row) for row in connection.execute(query))
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
            query = select(MEMBERS.c.root).distinct()
            return [bytes.fromhex(r) for r in session.connection().execute(query).scalars()]
