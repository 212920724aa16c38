"""Receipts: a versioned JSON document that holds everything needed to re-check an anchor.

A receipt names the chain and contract, the transaction and block, the sealed notice
fields, the seal and its signer, and for batch members the Merkle root, the leaf
index and the RFC 9162 inclusion proof. Offline, anyone can check that a receipt
belongs to a notice file and that its seal and proof are sound; online, the chain
confirms the block and the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend.core.digest import DOCUMENT_DIGEST_SCHEME, RELEASE_DIGEST_SCHEME
from backend.core.records import AnchoredEvent
from backend.core.seal import SEAL_FORMAT, SealedFields, SealError, batch_signer, notice_key, notice_signer
from backend.core.stages import Stage
from backend.errors import ReceiptFormatError

RECEIPT_FORMAT = "tenderledger-receipt/2"
"""Version 2: a batch member's proof starts from ``merkle.member_leaf`` (notice key and
digest), not from the bare digest, and ``previous`` is keccak256 of the amended release id."""


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def unhex(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


@dataclass(frozen=True, slots=True)
class AnchorPoint:
    """Where on chain something was anchored."""

    tx_hash: str
    block_number: int
    block_hash: str
    block_timestamp: int
    log_index: int


@dataclass(frozen=True, slots=True)
class BatchMembership:
    """How a notice belongs to an anchored Merkle batch."""

    root: bytes
    size: int
    label: str
    index: int
    proof: dict[str, Any]  # the RFC 9162 inclusion proof in its own versioned JSON form


@dataclass(frozen=True, slots=True)
class Receipt:
    """The receipt of one anchored notice (or one member of an anchored batch).

    ``to_json`` gives the versioned JSON document (``RECEIPT_FORMAT``) stored, served and
    handed to people; ``from_json`` reads it back, refusing another format.
    """

    chain_id: int
    ledger: str
    fields: SealedFields
    seal: bytes
    signer: str
    agency: int
    agency_name: str | None
    anchor: AnchorPoint
    batch: BatchMembership | None = None

    @property
    def digest(self) -> bytes:
        return self.fields.digest

    @property
    def digest_hex(self) -> str:
        """The notice digest as hex without 0x: how the store and reports key receipts."""
        return self.fields.digest.hex()

    def to_json(self) -> dict[str, Any]:
        fields = self.fields
        stage = Stage(fields.stage)
        anchor = self.anchor
        batch = self.batch
        return {
            "format": RECEIPT_FORMAT,
            "chain": {"chain_id": self.chain_id, "ledger": self.ledger},
            "notice": {
                "ocid": fields.ocid,
                "release_id": fields.release_id,
                "key": hex32(notice_key(fields.ocid, fields.release_id)),
                "stage": stage.tag,
                "stage_code": int(stage),
                "digest": hex32(fields.digest),
                "digest_scheme": DOCUMENT_DIGEST_SCHEME if stage is Stage.DOCUMENT else RELEASE_DIGEST_SCHEME,
                "previous": hex32(fields.previous),
                "deadline": fields.deadline,
            },
            "seal": {
                "format": SEAL_FORMAT,
                "signature": hex32(self.seal),
                "signer": self.signer,
                "agency": self.agency,
                "agency_name": self.agency_name,
                "covers": "batch" if batch else "notice",
            },
            "anchor": {
                "tx_hash": anchor.tx_hash,
                "block_number": anchor.block_number,
                "block_hash": anchor.block_hash,
                "block_timestamp": anchor.block_timestamp,
                "log_index": anchor.log_index,
            },
            "batch": None
            if batch is None
            else {
                "root": hex32(batch.root),
                "size": batch.size,
                "label": batch.label,
                "index": batch.index,
                "proof": batch.proof,
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Receipt:
        """A receipt from its JSON document; ReceiptFormatError when it is not one of this format."""
        if not isinstance(data, Mapping) or data.get("format") != RECEIPT_FORMAT:
            found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise ReceiptFormatError(f"unknown receipt format {found!r}")
        try:
            chain, seal, anchor, batch = data["chain"], data["seal"], data["anchor"], data.get("batch")
            return cls(
                chain_id=int(chain["chain_id"]),
                ledger=str(chain["ledger"]),
                fields=receipt_fields(data),
                seal=unhex(seal["signature"]),
                signer=str(seal["signer"]),
                agency=int(seal["agency"]),
                agency_name=seal.get("agency_name"),
                anchor=AnchorPoint(
                    tx_hash=str(anchor["tx_hash"]),
                    block_number=int(anchor["block_number"]),
                    block_hash=str(anchor["block_hash"]),
                    block_timestamp=int(anchor["block_timestamp"]),
                    log_index=int(anchor["log_index"]),
                ),
                batch=None
                if not batch
                else BatchMembership(
                    root=unhex(batch["root"]),
                    size=int(batch["size"]),
                    label=str(batch["label"]),
                    index=int(batch["index"]),
                    proof=dict(batch["proof"]),
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReceiptFormatError(
                f"a {RECEIPT_FORMAT} document with a missing or bad field: {exc}"
            ) from exc


def build_receipt(
    *,
    chain_id: int,
    ledger: str,
    fields: SealedFields,
    seal: bytes,
    signer: str,
    agency: int,
    agency_name: str | None,
    anchor: AnchorPoint,
    batch: BatchMembership | None = None,
) -> Receipt:
    """The receipt of one anchored notice (or one member of an anchored batch)."""
    return Receipt(chain_id, ledger, fields, seal, signer, agency, agency_name, anchor, batch)


def receipt_of_event(
    event: AnchoredEvent, *, chain_id: int, ledger: str, agency_name: str | None, block_timestamp: int
) -> Receipt:
    """The receipt of a single notice, from its NoticeAnchored event: the one builder for it."""
    return build_receipt(
        chain_id=chain_id,
        ledger=ledger,
        fields=event.fields,
        seal=event.seal,
        signer=event.signer,
        agency=event.agency,
        agency_name=agency_name,
        anchor=AnchorPoint(
            tx_hash=hex32(event.tx_hash),
            block_number=event.block_number,
            block_hash=hex32(event.block_hash),
            block_timestamp=block_timestamp,
            log_index=event.log_index,
        ),
    )


def receipt_fields(receipt: Mapping[str, Any]) -> SealedFields:
    """The sealed notice fields a receipt document records."""
    notice = receipt["notice"]
    return SealedFields(
        ocid=notice["ocid"],
        release_id=notice["release_id"],
        stage=int(notice["stage_code"]),
        digest=unhex(notice["digest"]),
        previous=unhex(notice["previous"]),
        deadline=int(notice["deadline"]),
    )


def check_receipt_offline(receipt: Receipt | Mapping[str, Any], *, digest: bytes) -> list[str]:
    """Problems with ``receipt`` as evidence for a notice whose digest is ``digest``; empty when sound.

    1. The receipt has the known format.
    2. It records this digest.
    3. Its seal recovers to the signer it names (over the notice, or over the batch root).
    4. For a batch member, the inclusion proof leads from its leaf (ocid, release id and
       digest) to the root.
    Whether the block and record are on chain is for the online check.
    """
    from backend.core import merkle  # the Merkle module is only needed for batch receipts

    problems: list[str] = []
    if isinstance(receipt, Receipt):
        receipt = receipt.to_json()
    if receipt.get("format") != RECEIPT_FORMAT:
        return [f"unknown receipt format {receipt.get('format')!r}"]
    fields = receipt_fields(receipt)
    if fields.digest != digest:
        problems.append("the receipt is for another digest")
    chain = receipt["chain"]
    seal = unhex(receipt["seal"]["signature"])
    batch = receipt.get("batch")
    try:
        if batch:
            signer = batch_signer(
                unhex(batch["root"]),
                int(batch["size"]),
                batch["label"],
                seal,
                chain_id=int(chain["chain_id"]),
                contract=chain["ledger"],
            )
        else:
            signer = notice_signer(fields, seal, chain_id=int(chain["chain_id"]), contract=chain["ledger"])
    except SealError as exc:
        problems.append(f"the seal is unusable: {exc}")
    else:
        if signer != receipt["seal"]["signer"]:
            problems.append(f"the seal recovers to {signer}, not to {receipt['seal']['signer']}")
    if batch:
        proof = merkle.InclusionProof.from_json(batch["proof"])
        if proof.leaf_index != int(batch["index"]) or proof.tree_size != int(batch["size"]):
            problems.append("the inclusion proof is for another leaf or tree size")
        elif not merkle.verify_inclusion(
            merkle.member_leaf(fields.ocid, fields.release_id, digest), proof, unhex(batch["root"])
        ):
            problems.append("the inclusion proof does not lead to the batch root")
    return problems
