"""Verification verdicts, decided from what the chain says about a notice.

``judge`` is the auditor's checklist written as code. It is pure: the caller gathers
the chain facts (every anchor of the notice's (ocid, release id): the single notice
record with its NoticeAnchored event and seal, and batch members from manifests that
hash to a root on chain; the tenure of each seal key; who owns the process; the later
notices of the same process) and, optionally, the stored original for a field diff.
The local database never decides a verdict: a manifest counts only through its root.

Statuses (DESIGN.md, "Verdicts"):

- anchored: this exact notice is on chain, sealed by an agency key valid at the time
- superseded: anchored, but a later amendment or cancellation of the same process exists
- tampered: the first anchor of this (ocid, id) holds another digest: this copy was altered
  (also when the copy itself was anchored later: first anchor wins)
- conflict: this exact notice is the first anchor of its (ocid, id), but it sits in a
  process that belongs to another agency (a reserved ocid prefix, or an earlier anchor)
- not_anchored: nothing on chain for this notice
- invalid_seal: the digest is on chain but the seal does not recover to a key of the agency
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from backend.core.diff import changed_pointers
from backend.core.records import LedgerBatch, LedgerRecord, Position, SealKeyTenure
from backend.core.seal import SealedFields, SealError, batch_signer, notice_key, notice_signer, previous_link
from backend.core.stages import Stage

VERDICT_FORMAT = "tenderledger-verdict/1"


class Status(StrEnum):
    ANCHORED = "anchored"
    SUPERSEDED = "superseded"
    TAMPERED = "tampered"
    NOT_ANCHORED = "not_anchored"
    INVALID_SEAL = "invalid_seal"
    CONFLICT = "conflict"

    @property
    def passes(self) -> bool:
        """Whether ``verify`` exits 0 for this status."""
        return self in (Status.ANCHORED, Status.SUPERSEDED)


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What the file says: the notice as the auditor holds it."""

    file: str
    ocid: str
    release_id: str
    stage: Stage
    digest: bytes
    previous: bytes
    deadline: int
    release: Any = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> bytes:
        return notice_key(self.ocid, self.release_id)


@dataclass(frozen=True, slots=True)
class SealEvidence:
    """The sealed fields and seal from the NoticeAnchored event, and where it was mined."""

    fields: SealedFields
    seal: bytes
    tx_hash: str
    log_index: int


@dataclass(frozen=True, slots=True)
class LaterNotice:
    """A notice of the same process anchored after the one judged."""

    release_id: str
    stage: Stage
    previous: bytes
    block_number: int
    log_index: int
    agency: int = 0


@dataclass(frozen=True, slots=True)
class SingleAnchor:
    """An (ocid, release id) anchored as a single notice: its record and its event."""

    record: LedgerRecord
    evidence: SealEvidence | None

    @property
    def digest(self) -> bytes:
        return self.record.digest

    @property
    def agency(self) -> int:
        return self.record.agency

    @property
    def position(self) -> tuple[int, int, int]:
        log_index = self.evidence.log_index if self.evidence is not None else 0
        return (self.record.block_number, log_index, -1)

    @property
    def tx_hash(self) -> str | None:
        return self.evidence.tx_hash if self.evidence is not None else None


@dataclass(frozen=True, slots=True)
class BatchEvidence:
    """A batch member (its leaf proven under the root) and the root's chain record and event."""

    root: bytes
    size: int
    label: str
    seal: bytes
    proof_ok: bool
    record: LedgerBatch | None
    digest: bytes = bytes(32)
    leaf_index: int = 0
    log_index: int = 0
    tx_hash: str | None = None

    @property
    def agency(self) -> int:
        return self.record.agency if self.record is not None else 0

    @property
    def position(self) -> tuple[int, int, int]:
        block = self.record.block_number if self.record is not None else 2**63
        return (block, self.log_index, self.leaf_index)


Anchor = SingleAnchor | BatchEvidence
"""One anchor of an (ocid, release id) on chain."""


@dataclass(frozen=True, slots=True)
class ProcessOwner:
    """The agency a process belongs to, and why: a reserved ocid prefix or the first anchor."""

    agency: int
    reason: str


@dataclass
class Verdict:
    file: str
    ocid: str
    release_id: str
    digest: str
    status: Status
    stage: str
    agency: int | None = None
    agency_name: str | None = None
    signer: str | None = None
    block_number: int | None = None
    block_timestamp: int | None = None
    tx_hash: str | None = None
    changed: list[str] | None = None
    superseded_by: list[str] = field(default_factory=list)
    batch_root: str | None = None
    log_index: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``verify --json`` line (DESIGN.md, "Command line")."""
        data: dict[str, Any] = {
            "file": self.file,
            "ocid": self.ocid,
            "release_id": self.release_id,
            "digest": self.digest,
            "status": str(self.status),
            "stage": self.stage,
            "agency": self.agency_name or self.agency,
            "agency_id": self.agency,
            "signer": self.signer,
            "block_number": self.block_number,
            "block_timestamp": self.block_timestamp,
            "tx_hash": self.tx_hash,
        }
        if self.log_index is not None:
            data["log_index"] = self.log_index
        if self.status is Status.TAMPERED:
            data["changed"] = self.changed
        if self.superseded_by:
            data["superseded_by"] = self.superseded_by
        if self.batch_root:
            data["batch_root"] = self.batch_root
        if self.notes:
            data["notes"] = self.notes
        return data


def supersedes(later: LaterNotice, judged: NoticeFacts) -> bool:
    """Whether ``later`` amends or cancels what ``judged`` published.

    A later amendment, update or cancellation of the same lifecycle phase supersedes it; a
    tender cancellation also supersedes the planning; an explicit amendsReleaseID link
    to the judged notice always does. Documents are never superseded.
    """
    if judged.stage is Stage.DOCUMENT:
        return False
    if later.previous == previous_link(judged.release_id):
        return True
    if not later.stage.amends_or_cancels:
        return False
    later_phase, judged_phase = later.stage.phase, judged.stage.phase
    if later.stage is Stage.TENDER_CANCELLATION:
        return judged_phase <= later_phase
    return later_phase == judged_phase


def judge(
    notice: NoticeFacts,
    *,
    chain_id: int,
    ledger: str,
    anchors: Sequence[Anchor],
    tenures: Mapping[str, SealKeyTenure],
    owner: ProcessOwner | None = None,
    later: Sequence[LaterNotice] = (),
    original: Mapping[str, Any] | None = None,
    agency_names: Mapping[int, str] | None = None,
    notes: Sequence[str] = (),
) -> Verdict:
    """The verdict on ``notice`` from the chain facts, step by step.

    ``anchors`` are every anchor of the notice's (ocid, release id), single notices and
    batch members alike; ``owner`` is who the process belongs to, when known.
    """
    names = agency_names or {}
    verdict = Verdict(
        file=notice.file,
        ocid=notice.ocid,
        release_id=notice.release_id,
        digest="0x" + notice.digest.hex(),
        status=Status.NOT_ANCHORED,
        stage=notice.stage.tag,
        notes=list(notes),
    )

    # 1. Nothing anchored under this (ocid, release id): not anchored.
    if not anchors:
        return verdict

    # 2. First anchor wins: the earliest, by (block, log index, leaf), across single notices
    #    and batch members, is the one that counts for this (ocid, release id). When the
    #    process has an owner, anchors made by other agencies inside it do not compete.
    ordered = sorted(anchors, key=lambda a: a.position)
    first = authoritative(ordered, owner)
    assert first is not None  # anchors is not empty
    owned = [a for a in ordered if owner is None or a.agency == owner.agency]
    for foreign in (a for a in ordered if owned and a not in owned):
        verdict.notes.append(
            f"ignored an anchor of this (ocid, release id) {describe_anchor(foreign, names)}: "
            f"the process belongs to {_agency_label(owner.agency, names) if owner else 'another agency'}"
        )
    _copy_anchor(verdict, first, names)

    # 3. The first anchor holds another digest: this copy was altered, whoever anchored it later.
    if first.digest != notice.digest:
        verdict.status = Status.TAMPERED
        verdict.notes.append(
            "the first anchor of this (ocid, release id) holds another digest, 0x"
            + first.digest.hex()
            + ": "
            + describe_anchor(first, names)
        )
        for copy in (a for a in ordered if a is not first and a.digest == notice.digest):
            verdict.notes.append(
                "this copy was anchored later, "
                + describe_anchor(copy, names)
                + "; a later anchor never replaces the first"
            )
        if original is not None and notice.release is not None:
            verdict.changed = changed_pointers(original, notice.release)
        else:
            verdict.notes.append("the original is not in the evidence store: changed fields cannot be listed")
        return verdict

    # 4. Same digest: the seal must recover, over what was anchored, to a key of the anchoring
    #    agency whose tenure covers the anchor's position (block, log index).
    if isinstance(first, SingleAnchor):
        problem = _seal_problem(notice, first, tenures, chain_id=chain_id, ledger=ledger)
    else:
        problem = _batch_problem(first, tenures, chain_id=chain_id, ledger=ledger)
    if problem:
        verdict.status = Status.INVALID_SEAL
        verdict.notes.append(problem)
        return verdict

    # 5. The process belongs to its publisher: a notice anchored by another agency is a conflict.
    if owner is not None and owner.agency != first.agency:
        verdict.status = Status.CONFLICT
        verdict.notes.append(
            f"process {notice.ocid} belongs to {_agency_label(owner.agency, names)} ({owner.reason}); "
            f"this notice was anchored by {_agency_label(first.agency, names)}"
        )
        return verdict

    # 6. A later amendment or cancellation of the same process, by its owner, supersedes it.
    verdict.superseded_by = [
        n.release_id
        for n in later
        if supersedes(n, notice) and (owner is None or not n.agency or n.agency == owner.agency)
    ]
    verdict.status = Status.SUPERSEDED if verdict.superseded_by else Status.ANCHORED
    return verdict


def authoritative(anchors: Sequence[Anchor], owner: ProcessOwner | None) -> Anchor | None:
    """The anchor that counts for an (ocid, release id): the first, by (block, log index, leaf),
    among those made by the process's owner (among all when no anchor is the owner's)."""
    ordered = sorted(anchors, key=lambda a: a.position)
    owned = [a for a in ordered if owner is None or a.agency == owner.agency]
    return (owned or ordered)[0] if ordered else None


def _agency_label(agency: int, names: Mapping[int, str]) -> str:
    name = names.get(agency)
    return f"agency {agency} ({name!r})" if name else f"agency {agency}"


def describe_anchor(anchor: Anchor, names: Mapping[int, str]) -> str:
    """Where and by whom ``anchor`` was made, in one phrase for a verdict's notes."""
    block, _log, leaf = anchor.position
    where = f"by {_agency_label(anchor.agency, names)} in block {block}"
    if anchor.tx_hash:
        where += f", transaction {anchor.tx_hash}"
    if isinstance(anchor, BatchEvidence):
        where += f", leaf {leaf} of batch 0x{anchor.root.hex()}"
    return where


def _copy_anchor(verdict: Verdict, anchor: Anchor, names: Mapping[int, str]) -> None:
    verdict.agency = anchor.agency or None
    verdict.agency_name = names.get(anchor.agency)
    verdict.tx_hash = anchor.tx_hash
    if isinstance(anchor, SingleAnchor):
        verdict.signer = anchor.record.signer
        verdict.block_number = anchor.record.block_number
        verdict.block_timestamp = anchor.record.timestamp
        verdict.log_index = anchor.evidence.log_index if anchor.evidence is not None else None
    else:
        verdict.batch_root = "0x" + anchor.root.hex()
        if anchor.record is not None:
            verdict.signer = anchor.record.signer
            verdict.block_number = anchor.record.block_number
            verdict.block_timestamp = anchor.record.timestamp
            verdict.log_index = anchor.log_index


def _tenure_problem(
    signer: str, agency: int, position: Position, tenures: Mapping[str, SealKeyTenure]
) -> str | None:
    tenure = tenures.get(signer)
    if tenure is None or tenure.agency != agency:
        return f"{signer} is not a seal key of agency {agency}"
    if not tenure.valid_at(position):
        block, log_index = position
        return f"{signer} was not a valid seal key at block {block}, log {log_index}"
    return None


def _seal_problem(
    notice: NoticeFacts,
    anchor: SingleAnchor,
    tenures: Mapping[str, SealKeyTenure],
    *,
    chain_id: int,
    ledger: str,
) -> str | None:
    record, evidence = anchor.record, anchor.evidence
    if evidence is None:
        return "no NoticeAnchored event carries the seal of this record"
    if evidence.fields.digest != notice.digest or evidence.fields.release_id != notice.release_id:
        return "the anchored seal covers other fields than this notice"
    try:
        signer = notice_signer(evidence.fields, evidence.seal, chain_id=chain_id, contract=ledger)
    except SealError as exc:
        return f"the seal does not recover: {exc}"
    if signer != record.signer:
        return f"the seal recovers to {signer}, not to the recorded signer {record.signer}"
    return _tenure_problem(signer, record.agency, (record.block_number, evidence.log_index), tenures)


def _batch_problem(
    batch: BatchEvidence, tenures: Mapping[str, SealKeyTenure], *, chain_id: int, ledger: str
) -> str | None:
    if not batch.proof_ok:
        return "the inclusion proof does not lead from this notice to the batch root"
    if batch.record is None:
        return "the batch root is not on the ledger"
    try:
        signer = batch_signer(
            batch.root, batch.size, batch.label, batch.seal, chain_id=chain_id, contract=ledger
        )
    except SealError as exc:
        return f"the batch seal does not recover: {exc}"
    if signer != batch.record.signer:
        return f"the batch seal recovers to {signer}, not to the recorded signer {batch.record.signer}"
    return _tenure_problem(signer, batch.record.agency, (batch.record.block_number, batch.log_index), tenures)
