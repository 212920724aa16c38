"""Verification verdicts, decided from what the chain says about a notice.

``judge`` is the auditor's checklist written as code. It is pure: the caller gathers
the chain facts (the record under the notice's key or digest, the NoticeAnchored
event with its seal, the seal key's validity window, the later notices of the same
process, and batch evidence) and, optionally, the stored original for a field diff.
The local database never decides a verdict.

Statuses (DESIGN.md, "Verdicts"):

- anchored: this exact notice is on chain, sealed by an agency key valid at the time
- superseded: anchored, but a later amendment or cancellation of the same process exists
- tampered: the (ocid, id) is anchored with another digest: this copy was altered
- not_anchored: nothing on chain for this notice
- invalid_seal: the digest is on chain but the seal does not recover to a key of the agency
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from backend.core.diff import changed_pointers
from backend.core.records import LedgerBatch, LedgerRecord, SealKeyWindow
from backend.core.seal import SealedFields, SealError, batch_signer, notice_key, notice_signer
from backend.core.stages import Stage

VERDICT_FORMAT = "tenderledger-verdict/1"


class Status(StrEnum):
    ANCHORED = "anchored"
    SUPERSEDED = "superseded"
    TAMPERED = "tampered"
    NOT_ANCHORED = "not_anchored"
    INVALID_SEAL = "invalid_seal"

    @property
    def passes(self) -> bool:
        """Whether ``verify`` exits 0 for this status."""
        return self in (Status.ANCHORED, Status.SUPERSEDED)


# Lifecycle phases: a later amendment, update or cancellation supersedes notices of its own phase.
_PHASES: dict[Stage, int] = {
    **dict.fromkeys((Stage.PLANNING, Stage.PLANNING_UPDATE), 1),
    **dict.fromkeys(
        (Stage.TENDER, Stage.TENDER_AMENDMENT, Stage.TENDER_UPDATE, Stage.TENDER_CANCELLATION), 2
    ),
    **dict.fromkeys((Stage.AWARD, Stage.AWARD_UPDATE, Stage.AWARD_CANCELLATION), 3),
    **dict.fromkeys(
        (
            Stage.CONTRACT,
            Stage.CONTRACT_UPDATE,
            Stage.CONTRACT_AMENDMENT,
            Stage.IMPLEMENTATION,
            Stage.IMPLEMENTATION_UPDATE,
            Stage.CONTRACT_TERMINATION,
        ),
        4,
    ),
    Stage.DOCUMENT: 0,
}


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


@dataclass(frozen=True, slots=True)
class BatchEvidence:
    """A batch member's proof (already checked against the digest) and the root's chain record."""

    root: bytes
    size: int
    label: str
    seal: bytes
    proof_ok: bool
    record: LedgerBatch | None
    key_window: SealKeyWindow | None
    tx_hash: str | None = None


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
    if later.previous == judged.key:
        return True
    if not later.stage.amends_or_cancels:
        return False
    later_phase, judged_phase = _PHASES[later.stage], _PHASES[judged.stage]
    if later.stage is Stage.TENDER_CANCELLATION:
        return judged_phase <= later_phase
    return later_phase == judged_phase


def judge(
    notice: NoticeFacts,
    *,
    chain_id: int,
    ledger: str,
    record: LedgerRecord | None,
    evidence: SealEvidence | None,
    key_window: SealKeyWindow | None,
    later: Sequence[LaterNotice] = (),
    batch: BatchEvidence | None = None,
    original: Mapping[str, Any] | None = None,
    agency_name: str | None = None,
) -> Verdict:
    """The verdict on ``notice`` from the chain facts, step by step."""
    verdict = Verdict(
        file=notice.file,
        ocid=notice.ocid,
        release_id=notice.release_id,
        digest="0x" + notice.digest.hex(),
        status=Status.NOT_ANCHORED,
        stage=notice.stage.tag,
    )

    # 1. Nothing under this key (or digest), and no batch evidence: not anchored.
    if record is None:
        if batch is not None:
            return _judge_batch(
                verdict, notice, batch, chain_id=chain_id, ledger=ledger, agency_name=agency_name
            )
        return verdict
    _copy_record(verdict, record, agency_name)

    # 2. The key is anchored with another digest: this copy was altered.
    if record.digest != notice.digest:
        verdict.status = Status.TAMPERED
        verdict.notes.append(
            "the ledger holds another digest for this (ocid, release id): 0x" + record.digest.hex()
        )
        if original is not None and notice.release is not None:
            verdict.changed = changed_pointers(original, notice.release)
        else:
            verdict.notes.append("the original is not in the evidence store: changed fields cannot be listed")
        if evidence is not None:
            verdict.tx_hash = evidence.tx_hash
        return verdict

    # 3. Same digest: the seal in the event must recover, over the recorded fields, to the
    #    recorded signer, a key of the recorded agency, valid in the record's block.
    problem = _seal_problem(notice, record, evidence, key_window, chain_id=chain_id, ledger=ledger)
    if evidence is not None:
        verdict.tx_hash = evidence.tx_hash
    if problem:
        verdict.status = Status.INVALID_SEAL
        verdict.notes.append(problem)
        return verdict

    # 4. A later amendment or cancellation of the same process supersedes it.
    verdict.superseded_by = [n.release_id for n in later if supersedes(n, notice)]
    verdict.status = Status.SUPERSEDED if verdict.superseded_by else Status.ANCHORED
    return verdict


def _copy_record(verdict: Verdict, record: LedgerRecord, agency_name: str | None) -> None:
    verdict.agency = record.agency
    verdict.agency_name = agency_name
    verdict.signer = record.signer
    verdict.block_number = record.block_number
    verdict.block_timestamp = record.timestamp


def _seal_problem(
    notice: NoticeFacts,
    record: LedgerRecord,
    evidence: SealEvidence | None,
    key_window: SealKeyWindow | None,
    *,
    chain_id: int,
    ledger: str,
) -> str | None:
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
    if key_window is None or key_window.agency != record.agency:
        return f"{signer} is not a seal key of agency {record.agency}"
    if not key_window.valid_at(record.block_number):
        return f"{signer} was not a valid seal key in block {record.block_number}"
    return None


def _judge_batch(
    verdict: Verdict,
    notice: NoticeFacts,
    batch: BatchEvidence,
    *,
    chain_id: int,
    ledger: str,
    agency_name: str | None,
) -> Verdict:
    verdict.batch_root = "0x" + batch.root.hex()
    if not batch.proof_ok:
        verdict.notes.append("the inclusion proof does not lead from this digest to the batch root")
        return verdict
    if batch.record is None:
        verdict.notes.append("the batch root is not on the ledger")
        return verdict
    verdict.agency = batch.record.agency
    verdict.agency_name = agency_name
    verdict.signer = batch.record.signer
    verdict.block_number = batch.record.block_number
    verdict.block_timestamp = batch.record.timestamp
    verdict.tx_hash = batch.tx_hash
    try:
        signer = batch_signer(
            batch.root, batch.size, batch.label, batch.seal, chain_id=chain_id, contract=ledger
        )
    except SealError as exc:
        verdict.status = Status.INVALID_SEAL
        verdict.notes.append(f"the batch seal does not recover: {exc}")
        return verdict
    window = batch.key_window
    if (
        signer != batch.record.signer
        or window is None
        or window.agency != batch.record.agency
        or not window.valid_at(batch.record.block_number)
    ):
        verdict.status = Status.INVALID_SEAL
        verdict.notes.append(f"the batch seal recovers to {signer}, not a valid key of the batch's agency")
        return verdict
    verdict.status = Status.ANCHORED
    return verdict
