"""Verifying notices against the chain, in bulk.

For each chunk of notices the chain is asked once for the records under their keys
(``recordsByKey``), once for the NoticeAnchored events that carry their seals, and
once for the later notices of their processes. The evidence store, when there is
one, only supplies the stored original of a tampered notice (for the field diff)
and the inclusion proofs of batch members, which are checked against the root on
chain: it never decides a verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from backend.chain.ledger import AnchoredEvent
from backend.core.jsontext import parse_json
from backend.core.receipt import hex32, unhex
from backend.core.records import LedgerBatch, LedgerRecord, SealKeyWindow
from backend.core.seal import notice_key, ocid_hash
from backend.core.stages import Stage
from backend.core.verdict import BatchEvidence, LaterNotice, NoticeFacts, SealEvidence, Verdict, judge
from backend.service.anchoring import sealed_fields
from backend.service.context import Backend
from backend.service.intake import Intake
from backend.store import EvidenceStore

CHUNK = 256


@dataclass(frozen=True)
class Subject:
    """One notice to verify, as read from the auditor's file."""

    facts: NoticeFacts
    by_digest: bool  # documents verified without knowing their ocid are looked up by digest


def subjects_of(intake: Intake) -> list[Subject]:
    subjects = []
    for item in intake.notices:
        notice = item.notice
        fields = sealed_fields(notice)
        facts = NoticeFacts(
            file=notice.source,
            ocid=notice.ocid,
            release_id=notice.release_id,
            stage=notice.stage,
            digest=notice.digest,
            previous=fields.previous,
            deadline=fields.deadline,
            release=notice.release,
        )
        subjects.append(Subject(facts, by_digest=notice.stage is Stage.DOCUMENT and not notice.ocid))
    return subjects


class VerifyService:
    def __init__(self, backend: Backend, *, store: EvidenceStore | None = None) -> None:
        self.backend = backend
        self.ledger = backend.ledger
        self.store = store
        self._windows: dict[str, SealKeyWindow] = {}
        self._agency_names: dict[int, str] | None = None
        self._batches: dict[bytes, LedgerBatch | None] = {}

    @property
    def chain_id(self) -> int:
        return self.ledger.deployment.chain_id

    def verify(self, subjects: Sequence[Subject]) -> Iterator[Verdict]:
        """One verdict per subject, in order, streaming chunk by chunk."""
        for start in range(0, len(subjects), CHUNK):
            yield from self._verify_chunk(subjects[start : start + CHUNK])

    # ---------------------------------------------------------------- one chunk

    def _verify_chunk(self, chunk: Sequence[Subject]) -> list[Verdict]:
        records = self._records(chunk)
        events = self._events(chunk, records)
        later = self._later_notices({e.ocid_hash for e in events if e is not None})
        verdicts = []
        for subject, record, event in zip(chunk, records, events, strict=True):
            facts = subject.facts
            if subject.by_digest and event is not None:
                facts = NoticeFacts(
                    file=facts.file,
                    ocid=event.fields.ocid,
                    release_id=event.fields.release_id,
                    stage=facts.stage,
                    digest=facts.digest,
                    previous=event.fields.previous,
                    deadline=event.fields.deadline,
                    release=facts.release,
                )
            evidence = None
            if event is not None:
                evidence = SealEvidence(
                    fields=event.fields,
                    seal=event.seal,
                    tx_hash=hex32(event.tx_hash),
                    log_index=event.log_index,
                )
            window = self._window(record.signer) if record is not None else None
            after = []
            if event is not None:
                position = (event.block_number, event.log_index)
                after = [n for pos, n in later.get(event.ocid_hash, []) if pos > position]
            original = None
            if record is not None and record.digest != facts.digest:
                original = self._original(record.digest)
            batch = self._batch_evidence(facts) if record is None else None
            agency = (
                record.agency
                if record is not None
                else (batch.record.agency if batch and batch.record else None)
            )
            verdicts.append(
                judge(
                    facts,
                    chain_id=self.chain_id,
                    ledger=self.ledger.address,
                    record=record,
                    evidence=evidence,
                    key_window=window,
                    later=after,
                    batch=batch,
                    original=original,
                    agency_name=self._agency_name(agency) if agency else None,
                )
            )
        return verdicts

    def _records(self, chunk: Sequence[Subject]) -> list[LedgerRecord | None]:
        by_key = [s for s in chunk if not s.by_digest]
        by_digest = [s for s in chunk if s.by_digest]
        key_records = iter(self.ledger.records_by_key([s.facts.key for s in by_key]))
        digest_records = iter(self.ledger.records_by_digest([s.facts.digest for s in by_digest]))
        return [next(digest_records) if s.by_digest else next(key_records) for s in chunk]

    def _events(
        self, chunk: Sequence[Subject], records: Sequence[LedgerRecord | None]
    ) -> list[AnchoredEvent | None]:
        """The NoticeAnchored event of each anchored subject (by key, or by digest for documents)."""
        found = [(s, r) for s, r in zip(chunk, records, strict=True) if r is not None]
        keys = [s.facts.key for s, _ in found if not s.by_digest]
        digests = [r.digest for s, r in found if s.by_digest]
        by_key = (
            {e.key: e for e in self.ledger.notice_events_for_keys(list(dict.fromkeys(keys)))} if keys else {}
        )
        by_digest = (
            {e.digest: e for e in self.ledger.notice_events_for_digests(list(dict.fromkeys(digests)))}
            if digests
            else {}
        )
        events: list[AnchoredEvent | None] = []
        for subject, record in zip(chunk, records, strict=True):
            if record is None:
                events.append(None)
            elif subject.by_digest:
                events.append(by_digest.get(record.digest))
            else:
                events.append(by_key.get(subject.facts.key))
        return events

    def _later_notices(
        self, ocid_hashes: set[bytes]
    ) -> dict[bytes, list[tuple[tuple[int, int], LaterNotice]]]:
        grouped: dict[bytes, list[tuple[tuple[int, int], LaterNotice]]] = defaultdict(list)
        if not ocid_hashes:
            return grouped
        for event in self.ledger.notice_events_for_processes(sorted(ocid_hashes)):
            grouped[event.ocid_hash].append(
                (
                    (event.block_number, event.log_index),
                    LaterNotice(
                        release_id=event.fields.release_id,
                        stage=Stage(event.fields.stage),
                        previous=event.fields.previous,
                        block_number=event.block_number,
                        log_index=event.log_index,
                    ),
                )
            )
        return grouped

    def _window(self, signer: str) -> SealKeyWindow:
        if signer not in self._windows:
            self._windows[signer] = self.ledger.seal_key(signer)
        return self._windows[signer]

    def _agency_name(self, agency: int) -> str | None:
        if self._agency_names is None:
            self._agency_names = self.ledger.agency_names()
        return self._agency_names.get(agency)

    # ---------------------------------------------------------------- evidence store (optional)

    def _original(self, digest: bytes) -> Any | None:
        """The stored release anchored with ``digest``, rebuilt from the exact bytes kept."""
        if self.store is None:
            return None
        source = self.store.notice_source(digest)
        if source is None:
            return None
        data, pointer = source
        value: Any = parse_json(data)
        for token in [t for t in pointer.split("/") if t] if pointer else []:
            token = token.replace("~1", "/").replace("~0", "~")
            value = value[int(token)] if isinstance(value, list) else value[token]
        return value

    def _batch_evidence(self, facts: NoticeFacts) -> BatchEvidence | None:
        """A stored batch receipt for this digest, its proof checked here and its root on chain."""
        if self.store is None:
            return None
        receipt = self.store.receipt(facts.digest)
        if receipt is None or not receipt.get("batch"):
            return None
        from backend.core import merkle

        batch = receipt["batch"]
        root = unhex(batch["root"])
        proof = merkle.InclusionProof.from_json(batch["proof"])
        proof_ok = (
            proof.leaf_index == int(batch["index"])
            and proof.tree_size == int(batch["size"])
            and merkle.verify_inclusion(facts.digest, proof, root)
        )
        if root not in self._batches:
            self._batches[root] = self.ledger.batch_record(root)
        record = self._batches[root]
        return BatchEvidence(
            root=root,
            size=int(batch["size"]),
            label=batch["label"],
            seal=unhex(receipt["seal"]["signature"]),
            proof_ok=proof_ok,
            record=record,
            key_window=self._window(record.signer) if record else None,
            tx_hash=receipt["anchor"]["tx_hash"],
        )


def document_subject(data: bytes, *, name: str) -> Subject:
    """An evidence document verified by digest alone (its ocid comes from the chain)."""
    import hashlib

    digest = hashlib.sha256(data).digest()
    release_id = "sha256:" + digest.hex()
    facts = NoticeFacts(
        file=name,
        ocid="",
        release_id=release_id,
        stage=Stage.DOCUMENT,
        digest=digest,
        previous=bytes(32),
        deadline=0,
    )
    return Subject(facts, by_digest=True)


__all__ = ["Subject", "VerifyService", "document_subject", "notice_key", "ocid_hash", "subjects_of"]
