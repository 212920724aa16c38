"""Evidence packages: one zip that proves itself, for one notice or for a whole process.

A notice package (``evidence-<ocid>-<release id>.zip``) holds the notice's exact bytes
(the RFC 8785 bytes of a release, which its digest covers, and the file it came in; or
a document's raw bytes), its receipt, ``certificate.pdf``, ``proof.json`` and the
standalone ``verify_evidence.py``. A dossier (``dossier-<ocid>.zip``) holds the same for
every notice and evidence document of a process, under ``notices/``, with its timeline
and red flags (``timeline.json``, and the report in ``certificate.pdf``).

``proof.json`` names every member with its SHA-256, so a member added, lost or damaged
is seen; the facts themselves are proven from the block hash (see ``verify_evidence``).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from backend.evidence import verify_evidence
from backend.evidence.proofs import AnchorProof

PACKAGE_FORMAT = verify_evidence.FORMAT
PROOF_FILE = verify_evidence.PROOF_FILE
VERIFIER_FILE = "verify_evidence.py"
CERTIFICATE_FILE = "certificate.pdf"
README_FILE = "README.txt"
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed, so that the same evidence gives the same bytes
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

README_TEXT = """\
tenderledger evidence package
=============================

proof.json proves, from one block hash, that each notice in this package was sealed by
its agency and anchored on the ledger. To check it, with nothing but Python 3.9 or newer:

    python3 -I verify_evidence.py {name}

(or on the unpacked folder). It prints "proven" or "FAILED <part>: <reason>" per notice,
then the block hash and height it had to trust: compare them with any node, checkpoint
or witness of the chain. Exit status 0: all proven; 1: a finding; 2: not a package.

With tenderledger installed, the same and a live look at the chain:

    tenderledger evidence check --rpc-url URL {name}

certificate.pdf is a rendering for people; the evidence is proof.json.
"""


def verifier_source() -> bytes:
    """The standalone verifier's source, as shipped inside every package."""
    return resources.files("backend.evidence").joinpath(VERIFIER_FILE).read_bytes()


def safe_name(text: str, *, limit: int = 120) -> str:
    """``text`` as a file-name part: letters, digits, ``.``, ``_`` and ``-`` only."""
    return _UNSAFE.sub("_", text).strip("._")[:limit] or "_"


def receipt_bytes(receipt: dict[str, Any]) -> bytes:
    """A receipt as the package stores it (the standalone verifier insists on this layout)."""
    return (json.dumps(receipt, indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True, slots=True)
class PackedNotice:
    """One anchored notice with everything its package needs."""

    receipt: dict[str, Any]
    data: bytes
    """The bytes the digest covers: a release's RFC 8785 bytes, or a document's raw bytes."""
    proof: AnchorProof
    original: tuple[str, bytes] | None = None
    """The file the release was read from, when it is not ``data`` itself (name, bytes)."""

    @property
    def ocid(self) -> str:
        return str(self.receipt["notice"]["ocid"])

    @property
    def release_id(self) -> str:
        return str(self.receipt["notice"]["release_id"])

    @property
    def digest(self) -> str:
        return str(self.receipt["notice"]["digest"])

    @property
    def is_document(self) -> bool:
        return bool(self.receipt["notice"]["digest_scheme"] == "sha256-raw/1")

    def data_name(self) -> str:
        if not self.is_document:
            return "notice.json"
        return "document.pdf" if self.data.startswith(b"%PDF") else "document.bin"


def notice_package_name(notice: PackedNotice) -> str:
    """``evidence-<ocid>-<release id>.zip``."""
    return f"evidence-{safe_name(notice.ocid)}-{safe_name(notice.release_id)}.zip"


def dossier_name(ocid: str) -> str:
    """``dossier-<ocid>.zip``."""
    return f"dossier-{safe_name(ocid)}.zip"


def _item(notice: PackedNotice, folder: str) -> dict[str, Any]:
    receipt, proof = notice.receipt, notice.proof
    return {
        "notice": {
            "file": folder + notice.data_name(),
            "ocid": notice.ocid,
            "release_id": notice.release_id,
            "digest": notice.digest,
            "digest_scheme": receipt["notice"]["digest_scheme"],
        },
        "receipt": folder + "receipt.json",
        "block_hash": proof.block.hash,
        "transaction": {
            "index": proof.tx_index,
            "log_position": proof.log_position,
            "transaction_proof": ["0x" + n.hex() for n in proof.transaction_nodes],
            "receipts_proof": ["0x" + n.hex() for n in proof.receipt_nodes],
        },
        "seal": {"signature": receipt["seal"]["signature"], "signer": receipt["seal"]["signer"]},
        "state": {"nodes": ["0x" + n.hex() for n in proof.state_nodes]},
        "batch": receipt.get("batch"),
        "original": folder + "original/" + safe_name(notice.original[0]) if notice.original else None,
    }


def build_package(
    notices: Sequence[PackedNotice],
    *,
    name: str,
    certificate: bytes,
    extra: dict[str, bytes] | None = None,
    dossier: dict[str, Any] | None = None,
) -> bytes:
    """The zip of a package: one notice (``dossier`` None) or a process dossier."""
    if not notices:
        raise ValueError("a package holds at least one notice")
    chains = {
        (n.receipt["chain"]["chain_id"], n.receipt["chain"]["ledger"], n.proof.code_hash) for n in notices
    }
    if len(chains) != 1:
        raise ValueError("the notices of one package come from one ledger on one chain")
    ((chain_id, ledger, code_hash),) = chains
    members: dict[str, bytes] = {}
    items, blocks = [], {}
    for index, notice in enumerate(notices, start=1):
        folder = "" if dossier is None else f"notices/{index:03d}-{safe_name(notice.release_id, limit=80)}/"
        members[folder + notice.data_name()] = notice.data
        members[folder + "receipt.json"] = receipt_bytes(notice.receipt)
        item = _item(notice, folder)
        if item["original"] is not None and notice.original is not None:
            members[item["original"]] = notice.original[1]
        blocks[notice.proof.block.hash] = {
            "number": notice.proof.block.number,
            "header": "0x" + notice.proof.block.header.hex(),
        }
        items.append(item)
    members[CERTIFICATE_FILE] = certificate
    members[VERIFIER_FILE] = verifier_source()
    members[README_FILE] = README_TEXT.format(name=name).encode()
    members.update(extra or {})
    proof = {
        "format": PACKAGE_FORMAT,
        "kind": "notice" if dossier is None else "dossier",
        "chain": {"chain_id": chain_id, "ledger": ledger, "code_hash": code_hash},
        "blocks": blocks,
        "items": items,
        "files": {n: "0x" + hashlib.sha256(data).hexdigest() for n, data in sorted(members.items())},
        **({"dossier": dossier} if dossier is not None else {}),
    }
    members[PROOF_FILE] = (json.dumps(proof, indent=1, sort_keys=True) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in sorted(members.items()):
            info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
