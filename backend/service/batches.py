"""Batch manifests as auditors get them: the ordered leaves, checked against the root on chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.core.merkle import MEMBER_LEAF_FORMAT
from backend.core.receipt import hex32
from backend.service.context import Backend
from backend.store.manifests import ManifestMember, ManifestStore, manifest_matches


@dataclass(frozen=True)
class BatchManifest:
    """A batch root, what the chain says of it, and its manifest with the result of re-hashing it."""

    root: bytes
    members: list[ManifestMember]
    hashes_to_root: bool
    on_chain: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "root": hex32(self.root),
            "size": len(self.members),
            "leaf_format": MEMBER_LEAF_FORMAT,
            "hashes_to_root": self.hashes_to_root,
            "on_chain": self.on_chain,
            "label": self.members[0].label if self.members else None,
            "leaves": [m.to_json() for m in self.members],
        }


def batch_manifest(backend: Backend, root: bytes) -> BatchManifest | None:
    """The manifest kept for ``root`` (None when the store has none), re-hashed and looked up on chain."""
    store = backend.existing_store()
    if store is None:
        return None
    members = ManifestStore(store).manifest(root)
    if not members:
        return None
    hashes = manifest_matches(root, members)
    ledger = backend.ledger
    record = ledger.batch_record(root)
    events = ledger.batch_events(root) if record is not None else []
    on_chain = None
    if record is not None and events:
        event = events[0]
        on_chain = {
            "agency": record.agency,
            "agency_name": ledger.agency_names().get(record.agency),
            "signer": record.signer,
            "block_number": record.block_number,
            "block_timestamp": record.timestamp,
            "tx_hash": hex32(event.tx_hash),
            "log_index": event.log_index,
            "size": event.size,
            "label": event.label,
        }
    return BatchManifest(root=root, members=members, hashes_to_root=hashes, on_chain=on_chain)
