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

from backend.core.merkle import member_tree
from backend.core.receipt import Receipt, hex32
from backend.core.schema import SchemaIssue
from backend.core.seal import Sealer, notice_key, sealed_fields
from backend.core.work import BatchWork, NoticeWork
from backend.errors import UsageError
from backend.service.bulk import paused_gc
from backend.service.context import Backend
from backend.service.intake import Intake, IntakeNotice
from backend.service.outbox import OutboxRunner
from backend.service.settlement import Progress
from backend.store import NewOutboxItem, OutboxEntry, StoredNotice
from backend.store.manifests import ManifestMember, ManifestStore
from backend.store.outbox import OutboxStatus, WorkKind

DEFAULT_BATCH_SIZE = 1024
MAX_BATCH_SIZE = 65_536


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
    receipt: Receipt | None = None
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
            anchor = self.receipt.anchor
            data.update(tx_hash=anchor.tx_hash, block_number=anchor.block_number)
        if self.error:
            data.update(error=self.error, error_name=self.error_name)
        if self.schema_issues:
            data["schema_issues"] = [{"path": i.path, "message": i.message} for i in self.schema_issues[:20]]
        return data


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
        store.keep_documents([(sha256, name, data) for sha256, (name, data) in intake.documents.items()])
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
        sealer = Sealer(key.key, chain_id=ledger.deployment.chain_id, contract=ledger.address)
        items = []
        for item in notices:
            fields = sealed_fields(item.notice)
            seal = sealer.seal(fields)
            items.append(
                NewOutboxItem(
                    kind=WorkKind.NOTICE,
                    subject=fields.digest.hex(),
                    agency=agency,
                    ocid=fields.ocid,
                    release_id=fields.release_id,
                    payload=NoticeWork(
                        seal=seal, signer=key.address, agency_id=agency_id, fields=fields
                    ).to_payload(),
                )
            )
        return self.backend.store.enqueue(items)

    def enqueue_batches(
        self, notices: Sequence[IntakeNotice], *, agency: str, batch_size: int, label: str | None
    ) -> list[OutboxEntry]:
        """Seal Merkle roots over the notices not yet anchored, ``batch_size`` per root, into the outbox."""
        store = self.backend.store
        ledger = self.backend.ledger
        key = self.backend.agency_key(agency)
        sealer = Sealer(key.key, chain_id=ledger.deployment.chain_id, contract=ledger.address)
        agency_id = ledger.agency_id(agency)
        by_digest = {n.notice.digest: n.notice for n in notices}
        digests = list(by_digest)
        anchored = set(store.receipts(digests))
        todo = [d for d in digests if d not in anchored]
        items = []
        manifests: list[ManifestMember] = []
        for number, start in enumerate(range(0, len(todo), batch_size), start=1):
            leaves = todo[start : start + batch_size]
            members = [by_digest[d] for d in leaves]
            root = member_tree((n.ocid, n.release_id, n.digest) for n in members).root
            batch_label = label or f"{agency}, {len(leaves)} notices"
            if len(todo) > batch_size:
                batch_label += f", part {number}"
            manifests.extend(
                ManifestMember(
                    root=root,
                    leaf_index=index,
                    ocid=n.ocid,
                    release_id=n.release_id,
                    key=notice_key(n.ocid, n.release_id),
                    digest=n.digest,
                    stage=int(n.stage),
                    label=batch_label,
                    agency=agency,
                )
                for index, n in enumerate(members)
            )
            items.append(
                NewOutboxItem(
                    kind=WorkKind.BATCH,
                    subject=root.hex(),
                    agency=agency,
                    ocid="",
                    release_id="",
                    payload=BatchWork(
                        root=root,
                        label=batch_label,
                        seal=sealer.seal_batch(root, len(leaves), batch_label),
                        leaves=tuple(leaves),
                        signer=sealer.address,
                        agency_id=agency_id,
                    ).to_payload(),
                )
            )
        # The manifest is kept before its root is sent, as the outbox row is.
        ManifestStore(store).keep(manifests)
        return store.enqueue(items)

    def anchor(
        self,
        intake: Intake,
        *,
        agency: str,
        allow_invalid: bool = False,
        batch: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        label: str | None = None,
        progress: Progress | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> list[AnchorResult]:
        """Anchor every notice of ``intake`` for ``agency``; one result per notice.

        With ``batch``, notices are anchored as Merkle batches: one sealed root per
        ``batch_size`` notices, an inclusion proof in each receipt. The ledger's
        lifecycle rules do not apply to batch content; the off-chain red flags do.
        """
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise UsageError(f"batch size must be between 1 and {MAX_BATCH_SIZE}")
        with paused_gc():
            return self._anchor(
                intake,
                agency=agency,
                allow_invalid=allow_invalid,
                batch=batch,
                batch_size=batch_size,
                label=label,
                progress=progress,
                on_stage=on_stage,
            )

    def _anchor(
        self,
        intake: Intake,
        *,
        agency: str,
        allow_invalid: bool,
        batch: bool,
        batch_size: int,
        label: str | None,
        progress: Progress | None,
        on_stage: Callable[[str], None] | None,
    ) -> list[AnchorResult]:
        say = on_stage or (lambda _text: None)
        say("validating against the OCDS 1.1 release schema")
        issues = self.validate(intake.notices)
        accepted = [n for n in intake.notices if allow_invalid or n.notice.digest not in issues]
        say("keeping the exact bytes in the evidence store")
        self.keep(intake, intake.notices)
        say("sealing and writing the outbox")
        if batch:
            entries = self.enqueue_batches(accepted, agency=agency, batch_size=batch_size, label=label)
        else:
            entries = self.enqueue(accepted, agency=agency)
        say("anchoring on chain")
        report = OutboxRunner(self.backend, progress=progress).run(entries)
        return self.results(
            intake,
            accepted,
            issues,
            anchored_now=report.anchored_subjects,
            known_receipts=report.receipts,
            refusals=report.refusals,
            agency=agency,
        )

    def results(
        self,
        intake: Intake,
        accepted: Sequence[IntakeNotice],
        issues: dict[bytes, list[SchemaIssue]],
        *,
        anchored_now: set[str],
        known_receipts: dict[str, Receipt] | None = None,
        refusals: dict[str, tuple[str, str]] | None = None,
        agency: str | None = None,
    ) -> list[AnchorResult]:
        """One result per notice of ``intake``. With ``agency``, only that agency's outbox rows and
        receipts count: another agency's anchor of the same bytes is never this one's result."""
        store = self.backend.store
        accepted_digests = {n.notice.digest for n in accepted}
        entries = {
            bytes.fromhex(e.subject): e
            for e in store.outbox_by_subjects(
                ((WorkKind.NOTICE, n.notice.digest.hex()) for n in accepted), agency=agency
            )
        }
        # Receipts made by this run are at hand; only older ones are read back from the store.
        receipts = {bytes.fromhex(subject): receipt for subject, receipt in (known_receipts or {}).items()}
        receipts.update(store.receipts([d for d in accepted_digests if d not in receipts]))
        if agency is not None:
            receipts = {d: r for d, r in receipts.items() if r.agency_name == agency}
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
                refused = (refusals or {}).get(notice.digest.hex())
                if refused is not None and result.receipt is None:
                    result.outcome = Outcome.REFUSED
                    result.error, result.error_name = refused
                elif result.receipt is not None:
                    fresh = notice.digest.hex() in anchored_now
                    result.outcome = Outcome.ANCHORED if fresh else Outcome.ALREADY_ANCHORED
                elif entry is not None and entry.status == OutboxStatus.REFUSED:
                    result.outcome, result.error, result.error_name = (
                        Outcome.REFUSED,
                        entry.error,
                        entry.error_name,
                    )
            results.append(result)
        return results
