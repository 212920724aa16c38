"""Anchoring notices: validate, keep the exact bytes, seal, enqueue, dispatch, report.

The order is the crash-safety argument: the notice bytes and a sealed outbox row are
committed before any transaction is sent, so a kill at any point loses nothing that
was acknowledged, and a rerun finishes the work instead of repeating it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from backend.core.notice import Notice
from backend.core.receipt import hex32
from backend.core.schema import SchemaIssue
from backend.core.seal import SealedFields, notice_key, seal_notice
from backend.service.context import Backend
from backend.service.dispatch import Dispatcher, Progress
from backend.service.intake import Intake, IntakeNotice
from backend.store import NewOutboxItem, OutboxEntry, StoredNotice

UINT64_MAX = 2**64 - 1


class Outcome(StrEnum):
    ANCHORED = "anchored"  # anchored by this run
    ALREADY_ANCHORED = "already_anchored"  # was on chain before: its existing receipt is returned
    REFUSED = "refused"  # the ledger said no (decoded error in ``error``)
    INVALID = "invalid"  # failed the OCDS schema; anchored only with allow_invalid
    PENDING = "pending"  # in the outbox, not yet on chain (the chain was unreachable)


@dataclass
class AnchorResult:
    source: str
    ocid: str
    release_id: str
    digest: str
    stage: str
    outcome: Outcome
    receipt: dict[str, Any] | None = None
    error: str | None = None
    error_name: str | None = None
    schema_issues: list[SchemaIssue] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.source,
            "ocid": self.ocid,
            "release_id": self.release_id,
            "digest": self.digest,
            "stage": self.stage,
            "outcome": str(self.outcome),
        }
        if self.receipt:
            anchor = self.receipt["anchor"]
            data.update(tx_hash=anchor["tx_hash"], block_number=anchor["block_number"])
        if self.error:
            data.update(error=self.error, error_name=self.error_name)
        if self.schema_issues:
            data["schema_issues"] = [{"path": i.path, "message": i.message} for i in self.schema_issues[:20]]
        return data


def sealed_fields(notice: Notice) -> SealedFields:
    """What the agency seals for a notice."""
    previous = notice_key(notice.ocid, notice.amends_release_id) if notice.amends_release_id else bytes(32)
    deadline = notice.deadline if notice.deadline is not None and 0 < notice.deadline <= UINT64_MAX else 0
    return SealedFields(notice.ocid, notice.release_id, int(notice.stage), notice.digest, previous, deadline)


class AnchorService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def validate(self, notices: Sequence[IntakeNotice]) -> dict[bytes, list[SchemaIssue]]:
        """Schema issues per notice digest (documents are not OCDS and are not validated)."""
        from backend.core.stages import Stage

        validator = self.backend.validator
        issues: dict[bytes, list[SchemaIssue]] = {}
        for item in notices:
            if item.notice.stage is Stage.DOCUMENT:
                continue
            found = validator.validate_release(item.notice.release)
            if found:
                issues[item.notice.digest] = found
        return issues

    def keep(self, intake: Intake, notices: Sequence[IntakeNotice]) -> None:
        """Store the exact bytes of every file and every notice, before anything else happens."""
        store = self.backend.store
        for sha256, (name, data) in intake.documents.items():
            store.keep_document(data, sha256=sha256, name=name)
        store.keep_notices(
            [
                StoredNotice(
                    digest=n.notice.digest,
                    ocid=n.notice.ocid,
                    release_id=n.notice.release_id,
                    stage=int(n.notice.stage),
                    canonical=None,
                    document_sha256=n.document_sha256,
                    pointer=n.pointer,
                    source=n.notice.source,
                )
                for n in notices
            ]
        )

    def enqueue(self, notices: Sequence[IntakeNotice], *, agency: str) -> list[OutboxEntry]:
        """Seal each notice with the agency's key and commit it to the outbox."""
        ledger = self.backend.ledger
        key = self.backend.agency_key(agency)
        agency_id = ledger.agency_id(agency)
        chain_id = ledger.deployment.chain_id
        items = []
        for item in notices:
            fields = sealed_fields(item.notice)
            seal = seal_notice(key.key, fields, chain_id=chain_id, contract=ledger.address)
            items.append(
                NewOutboxItem(
                    kind="notice",
                    subject=fields.digest.hex(),
                    agency=agency,
                    ocid=fields.ocid,
                    release_id=fields.release_id,
                    payload={
                        "fields": {
                            "ocid": fields.ocid,
                            "release_id": fields.release_id,
                            "stage": fields.stage,
                            "digest": hex32(fields.digest),
                            "previous": hex32(fields.previous),
                            "deadline": fields.deadline,
                        },
                        "seal": hex32(seal),
                        "signer": key.address,
                        "agency_id": agency_id,
                    },
                )
            )
        return self.backend.store.enqueue(items)

    def anchor(
        self,
        intake: Intake,
        *,
        agency: str,
        allow_invalid: bool = False,
        progress: Progress | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> list[AnchorResult]:
        """Anchor every notice of ``intake`` for ``agency``; one result per notice."""
        say = on_stage or (lambda _text: None)
        say("validating against the OCDS 1.1 release schema")
        issues = self.validate(intake.notices)
        accepted = [n for n in intake.notices if allow_invalid or n.notice.digest not in issues]
        say("keeping the exact bytes in the evidence store")
        self.keep(intake, intake.notices)
        say("sealing and writing the outbox")
        entries = self.enqueue(accepted, agency=agency)
        say("anchoring on chain")
        report = Dispatcher(self.backend, progress=progress).run(entries)
        return self.results(intake, accepted, issues, anchored_now=report.anchored_subjects)

    def results(
        self,
        intake: Intake,
        accepted: Sequence[IntakeNotice],
        issues: dict[bytes, list[SchemaIssue]],
        *,
        anchored_now: set[str],
    ) -> list[AnchorResult]:
        store = self.backend.store
        accepted_digests = {n.notice.digest for n in accepted}
        entries = {
            bytes.fromhex(e.subject): e
            for e in store.outbox_by_subjects(("notice", n.notice.digest.hex()) for n in accepted)
        }
        receipts = store.receipts(list(accepted_digests))
        results = []
        for item in intake.notices:
            notice = item.notice
            result = AnchorResult(
                source=notice.source,
                ocid=notice.ocid,
                release_id=notice.release_id,
                digest=hex32(notice.digest),
                stage=notice.stage.tag,
                outcome=Outcome.PENDING,
                schema_issues=issues.get(notice.digest, []),
            )
            if notice.digest not in accepted_digests:
                result.outcome = Outcome.INVALID
                result.error = f"fails the OCDS 1.1 release schema ({len(result.schema_issues)} issues)"
            else:
                entry = entries.get(notice.digest)
                result.receipt = receipts.get(notice.digest)
                if entry is not None and entry.status == "refused":
                    result.outcome, result.error, result.error_name = (
                        Outcome.REFUSED,
                        entry.error,
                        entry.error_name,
                    )
                elif result.receipt is not None:
                    fresh = notice.digest.hex() in anchored_now
                    result.outcome = Outcome.ANCHORED if fresh else Outcome.ALREADY_ANCHORED
            results.append(result)
        return results
