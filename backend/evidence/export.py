"""Exporting evidence packages: from a notice file, a digest, or a process's ocid.

What a package needs comes from the evidence store (the notice's exact bytes and its
receipt, both kept by ``anchor``), the proof material captured while the block was fresh
(:mod:`backend.evidence.capture`) or, failing that, the node itself. Every package is
checked by :mod:`backend.evidence.check` before it is handed out: an export never
writes a package that does not prove itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.chain.rpc import RpcClient
from backend.core.canonical import canonicalize
from backend.core.jsontext import parse_json
from backend.core.pointer import resolve_pointer
from backend.errors import InputError, VerificationError
from backend.evidence import certificate
from backend.evidence.capture import ProofArchive, proof_of_receipt, receipt_json, state_args
from backend.evidence.check import check_package_bytes
from backend.evidence.package import PackedNotice, build_package, dossier_name, notice_package_name
from backend.evidence.proofs import ProofReader
from backend.service.context import Backend
from backend.store import EvidenceStore

DOCUMENT_SCHEME = "sha256-raw/1"


@dataclass(frozen=True, slots=True)
class ExportedPackage:
    """A package ready to be written: its file name, its bytes, and what it holds."""

    name: str
    data: bytes
    notices: int


def notice_facts(receipt: dict[str, Any]) -> certificate.NoticeFacts:
    """What a certificate states about a notice, read from its receipt (which the package proves)."""
    notice, seal, anchor, batch = receipt["notice"], receipt["seal"], receipt["anchor"], receipt.get("batch")
    return certificate.NoticeFacts(
        ocid=notice["ocid"],
        release_id=notice["release_id"],
        stage=notice["stage"],
        digest=notice["digest"],
        digest_scheme=notice["digest_scheme"],
        agency=seal.get("agency_name") or f"agency {seal['agency']}",
        agency_id=int(seal["agency"]),
        signer=seal["signer"],
        block_timestamp=int(anchor["block_timestamp"]),
        chain_id=int(receipt["chain"]["chain_id"]),
        ledger=receipt["chain"]["ledger"],
        block_number=int(anchor["block_number"]),
        block_hash=anchor["block_hash"],
        tx_hash=anchor["tx_hash"],
        log_index=int(anchor["log_index"]),
        batch=(int(batch["index"]), int(batch["size"]), str(batch["root"])) if batch else None,
    )


class EvidenceExporter:
    """Builds packages from one backend's evidence store and chain."""

    def __init__(
        self,
        backend: Backend,
        *,
        lang: str = "en",
        workbench_url: str = certificate.DEFAULT_WORKBENCH_URL,
    ) -> None:
        if lang not in certificate.LANGUAGES:
            raise InputError(f"no certificate language {lang!r}", hint="use one of: en, es, zh")
        store = backend.existing_store()
        if store is None:
            raise InputError(
                "there is no evidence store here: packages need the exact bytes and receipts that "
                "'anchor' keeps",
                hint="run export where the notices were anchored "
                "(TENDERLEDGER_HOME or TENDERLEDGER_DATABASE_URL)",
            )
        self.backend = backend
        self.store: EvidenceStore = store
        self.lang = lang
        self.workbench_url = workbench_url
        self.archive = ProofArchive(store)
        self._rpc: RpcClient | None = None
        self._reader: ProofReader | None = None

    @property
    def rpc(self) -> RpcClient:
        if self._rpc is None:
            self._rpc = RpcClient(self.backend.w3)
        return self._rpc

    @property
    def reader(self) -> ProofReader:
        """One reader per export: a dossier's notices share their blocks' reads."""
        if self._reader is None:
            self._reader = ProofReader(self.rpc)
        return self._reader

    # ---------------------------------------------------------------- gathering

    def receipt(self, digest: bytes) -> dict[str, Any]:
        found = receipt_json(self.store.receipt(digest))
        if found is None:
            raise InputError(
                f"the evidence store holds no receipt for digest 0x{digest.hex()}",
                hint="export runs where the notice was anchored; "
                "'tenderledger verify' says whether it is on chain",
            )
        return found

    def proof(self, receipt: dict[str, Any]) -> Any:
        """The anchor's proof material from the node, with its state proof as taken when the block
        was fresh (asked of the node now, and kept, when it was not taken then)."""
        kept = self.archive.state(receipt)
        proof = proof_of_receipt(self.reader, receipt, state=kept)
        if kept is None:
            self.archive.keep([(receipt, self.reader.state(*state_args(receipt)))])
        return proof

    def stored_notice(self, digest: bytes) -> PackedNotice:
        """A notice anchored from this store, by digest: its exact bytes, receipt and proofs."""
        receipt = self.receipt(digest)
        source = self.store.notice_source(digest)
        if source is None:
            raise InputError(f"the evidence store holds no bytes for digest 0x{digest.hex()}")
        data, pointer = source
        if receipt["notice"]["digest_scheme"] == DOCUMENT_SCHEME:
            return self._packed(receipt, digest, data, None)
        release = resolve_pointer(parse_json(data), pointer)
        canonical = canonicalize(release)
        name = f"{receipt['notice']['release_id']}.json"
        return self._packed(receipt, digest, canonical, None if canonical == data else (name, data))

    def file_notices(self, path: Path) -> list[PackedNotice]:
        """The anchored notices of a file in hand (a release, a package, or an evidence document)."""
        from backend.service.intake import Intake
        from backend.service.verification import subjects_of_bytes

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
        intake = Intake()
        subjects = subjects_of_bytes(
            data, name=str(path), is_json=path.suffix.lower() == ".json", intake=intake
        )
        if intake.problems and not subjects:
            raise InputError(f"{path}: {intake.problems[0].message}")
        notices = []
        for subject in subjects:
            digest = subject.facts.digest
            receipt = self.receipt(digest)
            if receipt["notice"]["digest_scheme"] == DOCUMENT_SCHEME:
                notices.append(self._packed(receipt, digest, data, None))
            else:
                canonical = canonicalize(subject.facts.release)
                original = None if canonical == data else (path.name, data)
                notices.append(self._packed(receipt, digest, canonical, original))
        return notices

    def _packed(
        self, receipt: dict[str, Any], digest: bytes, data: bytes, original: tuple[str, bytes] | None
    ) -> PackedNotice:
        if hashlib.sha256(data).digest() != digest:
            raise VerificationError(f"the bytes kept for 0x{digest.hex()} do not hash to it")
        return PackedNotice(receipt=receipt, data=data, proof=self.proof(receipt), original=original)

    # ---------------------------------------------------------------- packages

    def notice_package(self, notice: PackedNotice) -> ExportedPackage:
        name = notice_package_name(notice)
        pdf = certificate.notice_certificate(
            notice_facts(notice.receipt), package_name=name, lang=self.lang, workbench_url=self.workbench_url
        )
        return self._checked(name, build_package([notice], name=name, certificate=pdf), 1)

    def dossier(self, ocid: str) -> ExportedPackage:
        """Every notice and evidence document of the process anchored here, with timeline and red flags."""
        from backend.service.history import process_history

        receipts = sorted(
            (r for r in map(receipt_json, self.store.all_receipts()) if r and r["notice"]["ocid"] == ocid),
            key=lambda r: (
                r["anchor"]["block_number"],
                r["anchor"]["log_index"],
                (r.get("batch") or {}).get("index", 0),
            ),
        )
        if not receipts:
            raise InputError(
                f"the evidence store holds no anchored notice of process {ocid!r}",
                hint="give a notice file, a digest (0x + 64 hex digits), "
                "or the ocid of a process anchored here",
            )
        notices = [self.stored_notice(bytes.fromhex(r["notice"]["digest"][2:])) for r in receipts]
        history = process_history(self.backend, ocid, store=self.store)
        timeline = [
            f"{e.status:<9} {e.stage.tag:<18} {e.release_id}"
            + (f"  (block {e.block_number})" if e.block_number else f"  ({e.error})" if e.error else "")
            for e in history.entries
        ]
        flags = [f"{f.code} ({f.severity}): {f.release_id}: {f.message}" for f in history.flags]
        name = dossier_name(ocid)
        chain = receipts[0]["chain"]
        pdf = certificate.dossier_report(
            certificate.DossierFacts(
                ocid=ocid,
                chain_id=int(chain["chain_id"]),
                ledger=str(chain["ledger"]),
                notices=[notice_facts(n.receipt) for n in notices],
                timeline=timeline,
                red_flags=flags,
            ),
            package_name=name,
            lang=self.lang,
            workbench_url=self.workbench_url,
        )
        timeline_json = (json.dumps(history.to_json(), indent=2, sort_keys=True) + "\n").encode()
        dossier = {
            "ocid": ocid,
            "timeline": "timeline.json",
            "note": "timeline.json and the red flags are tenderledger's reading of the chain's events when "
            "the dossier was made; proof.json proves each notice in it, not that the timeline is complete",
        }
        data = build_package(
            notices, name=name, certificate=pdf, extra={"timeline.json": timeline_json}, dossier=dossier
        )
        return self._checked(name, data, len(notices))

    @staticmethod
    def _checked(name: str, data: bytes, count: int) -> ExportedPackage:
        report = check_package_bytes(data)
        if not report.proven:
            raise VerificationError(f"{name} would not prove itself: {report.findings[0]}")
        return ExportedPackage(name=name, data=data, notices=count)

    def export(self, target: str) -> list[ExportedPackage]:
        """Packages for one argument of ``evidence export``: a file, a digest, or an ocid."""
        path = Path(target)
        if path.is_file():
            return [self.notice_package(n) for n in self.file_notices(path)]
        digest = parse_digest(target)
        if digest is not None:
            return [self.notice_package(self.stored_notice(digest))]
        return [self.dossier(target)]


def parse_digest(text: str) -> bytes | None:
    """The digest ``text`` names (64 hex digits, with or without 0x), or None."""
    raw = text.removeprefix("0x")
    if len(raw) == 64:
        try:
            return bytes.fromhex(raw)
        except ValueError:
            return None
    return None
