"""What the outbox carries to the chain: typed work items, read from and written to payloads.

A work item is one sealed notice (``NoticeWork``) or one sealed Merkle batch root
(``BatchWork``). Each knows its members (the notice digests it anchors), the subject
its outbox row is keyed by, and its JSON payload; code that sends work asks the item,
never a ``kind`` string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from backend.core.receipt import hex32, unhex
from backend.core.seal import SealedFields


@dataclass(frozen=True, slots=True)
class _Sealed:
    """What every work item has: its seal, and the key (and agency) that made it."""

    seal: bytes
    signer: str
    agency_id: int


@dataclass(frozen=True, slots=True)
class NoticeWork(_Sealed):
    """One sealed notice: its fields, its seal, and the key (and agency) that sealed it."""

    kind: ClassVar[str] = "notice"
    fields: SealedFields

    @property
    def members(self) -> tuple[str, ...]:
        """The digests (hex, no 0x) of the notices this work anchors."""
        return (self.fields.digest.hex(),)

    @property
    def size(self) -> int:
        return 1

    def to_payload(self) -> dict[str, Any]:
        f = self.fields
        return {
            "fields": {
                "ocid": f.ocid,
                "release_id": f.release_id,
                "stage": f.stage,
                "digest": hex32(f.digest),
                "previous": hex32(f.previous),
                "deadline": f.deadline,
            },
            "seal": hex32(self.seal),
            "signer": self.signer,
            "agency_id": self.agency_id,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> NoticeWork:
        f = payload["fields"]
        fields = SealedFields(
            f["ocid"],
            f["release_id"],
            int(f["stage"]),
            unhex(f["digest"]),
            unhex(f["previous"]),
            int(f["deadline"]),
        )
        return cls(
            seal=unhex(payload["seal"]), signer=_signer(payload), agency_id=_agency(payload), fields=fields
        )


@dataclass(frozen=True, slots=True)
class BatchWork(_Sealed):
    """One sealed Merkle root over ``leaves`` (the member digests, in tree order)."""

    kind: ClassVar[str] = "batch"
    root: bytes
    label: str
    leaves: tuple[bytes, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(leaf.hex() for leaf in self.leaves)

    @property
    def size(self) -> int:
        return len(self.leaves)

    def to_payload(self) -> dict[str, Any]:
        return {
            "root": hex32(self.root),
            "size": self.size,
            "label": self.label,
            "seal": hex32(self.seal),
            "signer": self.signer,
            "agency_id": self.agency_id,
            "leaves": list(self.members),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> BatchWork:
        leaves = tuple(bytes.fromhex(str(leaf)) for leaf in payload["leaves"])
        if int(payload["size"]) != len(leaves):
            raise ValueError(f"a batch payload of size {payload['size']} lists {len(leaves)} leaves")
        return cls(
            seal=unhex(payload["seal"]),
            signer=_signer(payload),
            agency_id=_agency(payload),
            root=unhex(payload["root"]),
            label=str(payload["label"]),
            leaves=leaves,
        )


Work = NoticeWork | BatchWork

_KINDS: dict[str, type[NoticeWork] | type[BatchWork]] = {
    NoticeWork.kind: NoticeWork,
    BatchWork.kind: BatchWork,
}


def work_of(kind: str, payload: Mapping[str, Any]) -> Work:
    """The work item an outbox row of ``kind`` carries in ``payload``."""
    cls = _KINDS.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown outbox work kind {kind!r}")
    return cls.from_payload(payload)


def _signer(payload: Mapping[str, Any]) -> str:
    return str(payload.get("signer") or "")


def _agency(payload: Mapping[str, Any]) -> int:
    return int(payload.get("agency_id") or 0)
