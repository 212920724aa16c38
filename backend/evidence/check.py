"""``evidence check``: the project's own check of an evidence package.

The same five steps as the standalone ``verify_evidence.py``, written again on the
project's own pieces (py-trie for the Merkle-Patricia proofs, pyrlp, eth-abi for the
logs, libsecp256k1 through ``backend.core.seal``, ``backend.core.merkle`` for batches,
``backend.core.receipt`` for receipts), so that each implementation checks the other:
the tests run both on every package they export and tamper with. Reading the package
(limits, paths, members) is shared with the standalone verifier, whose reader is the
one that must hold on a machine with nothing else.

Failures name the same parts: notice, header, transaction proof, receipts proof, log,
seal, state proof, seal key, batch proof, receipt, file.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_abi.abi import decode as abi_decode
from trie.exceptions import BadTrieProof, MissingTrieNode
from trie.hexary import HexaryTrie

from backend.core import merkle
from backend.core.canonical import canonicalize
from backend.core.hashing import keccak256
from backend.core.jsontext import parse_json
from backend.core.receipt import check_receipt_offline, receipt_fields
from backend.core.seal import (
    SealedFields,
    SealError,
    batch_signer,
    notice_key,
    notice_signer,
    to_checksum_address,
)
from backend.core.stages import Stage
from backend.errors import InputError
from backend.evidence import verify_evidence as standalone
from backend.evidence.proofs import SealKeySlot, agency_name_slot, key_slot
from backend.evidence.verify_evidence import BadPackage, Finding

NOTICE_TOPIC = keccak256(
    b"NoticeAnchored(bytes32,bytes32,bytes32,uint32,address,(string,string,uint8,bytes32,bytes32,uint64),bytes)"
)
BATCH_TOPIC = keccak256(b"BatchAnchored(bytes32,uint32,address,uint32,string,bytes)")


@dataclass
class CheckReport:
    """Per notice: (label, finding or None); and the blocks whose hashes the proofs start from."""

    results: list[tuple[str, str | None]] = field(default_factory=list)
    trusted: dict[str, int] = field(default_factory=dict)
    chain_id: int | None = None

    @property
    def findings(self) -> list[str]:
        return [f"{label}: {finding}" for label, finding in self.results if finding]

    @property
    def proven(self) -> bool:
        return bool(self.results) and not self.findings


def _h(text: Any) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"not 0x hex: {str(text)[:40]!r}")
    return bytes.fromhex(text[2:])


def _trie_value(root: bytes, key: bytes, nodes: list[str], part: str) -> bytes | None:
    try:
        proof = tuple(rlp.decode(_h(n)) for n in nodes)
        value = HexaryTrie.get_from_proof(root, key, proof)  # type: ignore[no-untyped-call]
    except (BadTrieProof, MissingTrieNode, ValueError, rlp.DecodingError) as exc:
        raise Finding(part, f"the proof does not lead to the root: {type(exc).__name__}") from None
    return bytes(value) if value else None


@dataclass(frozen=True)
class _Log:
    kind: str
    address: bytes
    topics: list[bytes]
    data: bytes


def _header(proof: dict[str, Any], block_hash: str) -> list[bytes]:
    block = proof["blocks"].get(block_hash)
    if not isinstance(block, dict):
        raise Finding("header", "the package holds no header for the block")
    raw = _h(block["header"])
    if "0x" + keccak256(raw).hex() != block_hash:
        raise Finding("header", "its RLP does not hash to the block hash")
    fields: list[bytes] = list(rlp.decode(raw))
    if int.from_bytes(fields[8], "big") != block["number"]:
        raise Finding("header", "it is another block than the package says")
    return fields


def _transaction(item: dict[str, Any], header: list[bytes]) -> tuple[bytes, _Log, int]:
    tx = item["transaction"]
    index = int(tx["index"])
    raw_tx = _trie_value(header[4], rlp.encode(index), tx["transaction_proof"], "transaction proof")
    if raw_tx is None:
        raise Finding("transaction proof", "the block has no such transaction")
    logs_before = 0
    body: list[Any] = []
    for earlier in range(index + 1):
        value = _trie_value(header[5], rlp.encode(earlier), tx["receipts_proof"], "receipts proof")
        if value is None:
            raise Finding("receipts proof", "the block has no such receipt")
        body = rlp.decode(value[1:] if value[0] < 0x80 else value)
        if earlier < index:
            logs_before += len(body[3])
    if body[0] != b"\x01":
        raise Finding("receipts proof", "the transaction failed")
    position = int(tx["log_position"])
    if not 0 <= position < len(body[3]):
        raise Finding("log", "the receipt holds no log at that position")
    address, topics, data = body[3][position]
    kind = {NOTICE_TOPIC: "notice", BATCH_TOPIC: "batch"}.get(topics[0] if topics else b"")
    if kind is None:
        raise Finding("log", "not a NoticeAnchored or BatchAnchored log")
    return keccak256(raw_tx), _Log(kind, address, list(topics), data), logs_before + position


def _state(
    item: dict[str, Any], header: list[bytes], chain: dict[str, Any], signer: str, agency: int
) -> bytes:
    """The signer's seal-key slot and the agency name's hash, at the end of the block."""
    nodes = item["state"]["nodes"]
    ledger = _h(chain["ledger"])
    account = _trie_value(header[3], keccak256(ledger), nodes, "state proof")
    if account is None:
        raise Finding("state proof", "the ledger has no account at this block")
    _nonce, _balance, storage_root, code_hash = rlp.decode(account)
    if code_hash != _h(chain["code_hash"]):
        raise Finding("state proof", "the ledger's code hash is not the package's")

    def slot(key: bytes) -> int:
        value = _trie_value(storage_root, keccak256(key), nodes, "state proof")
        return int.from_bytes(rlp.decode(value), "big") if value else 0

    info = SealKeySlot.unpack(slot(key_slot(signer)))
    number = int.from_bytes(header[8], "big")
    if info.agency != agency or not 0 < info.added_block <= number:
        raise Finding("seal key", f"{signer} is not a seal key of agency {agency} at block {number}")
    if info.revoked_block and info.revoked_block < number:
        raise Finding("seal key", f"{signer} was revoked in block {info.revoked_block}")
    return slot(agency_name_slot(agency)).to_bytes(32, "big")


def _check_original(original: bytes | None, canonical: bytes) -> None:
    """The file the release was published in holds it: one of its releases canonicalizes to the notice.

    The standalone verifier lists this file by hash only; this check needs an RFC 8785
    canonicalizer, which the project has.
    """
    if original is None:
        raise Finding("original", "the package does not hold the file it names")
    try:
        document: Any = parse_json(original)
    except InputError as exc:
        raise Finding("original", f"not JSON: {exc.message}") from None
    candidates: list[Any] = [document]
    if isinstance(document, dict):
        candidates += document.get("releases") or []
        for record in document.get("records") or []:
            if isinstance(record, dict):
                candidates += [*(record.get("releases") or []), record.get("compiledRelease")]
    for candidate in candidates:
        if isinstance(candidate, dict):
            try:
                if canonicalize(candidate) == canonical:
                    return
            except InputError:
                continue
    raise Finding("original", "no release in the file canonicalizes (RFC 8785) to the notice's bytes")


def check_item(item: dict[str, Any], members: dict[str, bytes], proof: dict[str, Any]) -> None:
    """Steps 1 to 5 and the receipt, for one notice; raises Finding."""
    chain, notice = proof["chain"], item["notice"]
    data = members.get(notice["file"])
    digest = hashlib.sha256(data or b"").digest()
    if data is None or "0x" + digest.hex() != notice["digest"]:
        raise Finding("notice", "its bytes do not hash to the digest")
    if notice["digest_scheme"] == "sha256-jcs/1":
        release = json.loads(data)
        if [release.get("ocid"), release.get("id")] != [notice["ocid"], notice["release_id"]]:
            raise Finding("notice", "the release's ocid and id are not those the package names")
    if item.get("original") is not None:
        _check_original(members.get(item["original"]), data)
    header = _header(proof, item["block_hash"])
    tx_hash, log, log_index = _transaction(item, header)
    if log.address != _h(chain["ledger"]):
        raise Finding("log", "not emitted by the ledger")
    try:
        receipt = json.loads(members[item["receipt"]])
    except (KeyError, ValueError):
        raise Finding("receipt", "missing or not JSON") from None
    seal = _h(item["seal"]["signature"])
    chain_id, contract = int(chain["chain_id"]), to_checksum_address(log.address)
    try:
        if log.kind == "notice":
            agency, signer, fields, logged_seal = abi_decode(
                ["uint32", "address", "(string,string,uint8,bytes32,bytes32,uint64)", "bytes"], log.data
            )
            ocid, release_id, stage, logged_digest, previous, deadline = fields
            if logged_digest != digest or log.topics[3] != digest:
                raise Finding("log", "it anchors another digest")
            if (ocid, release_id) != (notice["ocid"], notice["release_id"]) or log.topics[1] != notice_key(
                ocid, release_id
            ):
                raise Finding("log", "it anchors another notice key")
            logged = SealedFields(ocid, release_id, stage, logged_digest, previous, deadline)
            recovered = notice_signer(logged, seal, chain_id=chain_id, contract=contract)
            stated_notice = receipt["notice"]
            if receipt_fields(receipt) != logged or stated_notice["stage"] != Stage(stage).tag:
                raise Finding("receipt", "its sealed fields are not those the log holds")
            if stated_notice["key"] != "0x" + log.topics[1].hex():
                raise Finding("receipt", "its notice key is not the one the log holds")
        else:
            signer, size, label, logged_seal = abi_decode(["address", "uint32", "string", "bytes"], log.data)
            agency = int.from_bytes(log.topics[2], "big")
            batch = item.get("batch") or {}
            if (
                _h(batch.get("root")) != log.topics[1]
                or batch.get("size") != size
                or batch.get("label") != label
            ):
                raise Finding("batch proof", "the batch is not the one the log anchors")
            recovered = batch_signer(log.topics[1], size, label, seal, chain_id=chain_id, contract=contract)
            inclusion = merkle.InclusionProof.from_json(batch["proof"])
            leaf = merkle.member_leaf(notice["ocid"], notice["release_id"], digest)
            if inclusion.leaf_index != batch["index"] or not merkle.verify_inclusion(
                leaf, inclusion, log.topics[1], tree_size=size
            ):
                raise Finding("batch proof", "the inclusion proof does not lead to the anchored root")
    except SealError as exc:
        raise Finding("seal", str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise Finding("receipt", f"unreadable: {exc}") from None
    if recovered != to_checksum_address(signer) or seal != logged_seal:
        raise Finding("seal", "it does not recover to the signer the log names")
    name_hash = _state(item, header, chain, to_checksum_address(signer), agency)
    problems = check_receipt_offline(receipt, digest=digest)
    if problems:
        raise Finding("receipt", problems[0])
    stated = receipt["anchor"], receipt["seal"], receipt["chain"]
    proven = {
        "tx_hash": "0x" + tx_hash.hex(),
        "block_number": int.from_bytes(header[8], "big"),
        "block_hash": item["block_hash"],
        "block_timestamp": int.from_bytes(header[11], "big"),
        "log_index": log_index,
    }
    if stated[0] != proven:
        raise Finding("receipt", "its anchor is not where the proofs put it")
    if (stated[1]["signer"], stated[1]["agency"], stated[1]["signature"]) != (
        to_checksum_address(signer),
        agency,
        item["seal"]["signature"],
    ) or (stated[2]["chain_id"], stated[2]["ledger"]) != (chain_id, contract):
        raise Finding("receipt", "its seal or chain is not what the log says")
    name = stated[1].get("agency_name")
    if name is not None and keccak256(str(name).encode()) != name_hash:
        raise Finding("receipt", "seal.agency_name is not the name registered on chain")
    if members[item["receipt"]] != (json.dumps(receipt, indent=2, sort_keys=True) + "\n").encode():
        raise Finding("receipt", "not in the layout it was written in")


def check_members(members: dict[str, bytes]) -> CheckReport:
    """Check an evidence package already read into memory."""
    proof: dict[str, Any] = standalone.load_proof(members)
    report = CheckReport(chain_id=proof.get("chain", {}).get("chain_id"))
    for item in proof.get("items") or []:
        label = f"{item['notice']['ocid']} / {item['notice']['release_id']}"
        try:
            check_item(item, members, proof)
        except Finding as finding:
            report.results.append((label, str(finding)))
        except (KeyError, IndexError, TypeError, ValueError, rlp.DecodingError) as exc:
            report.results.append((label, f"proof.json: a malformed entry ({type(exc).__name__})"))
        else:
            report.results.append((label, None))
            report.trusted[item["block_hash"]] = int(proof["blocks"][item["block_hash"]]["number"])
    for name, expected in sorted(proof["files"].items()):
        if "0x" + hashlib.sha256(members[name]).hexdigest() != expected:
            report.results.append((name, f"file: its bytes are not those {standalone.PROOF_FILE} lists"))
    if not report.results:
        raise BadPackage(f"{standalone.PROOF_FILE} lists no notice")
    return report


def check_package(path: Path) -> CheckReport:
    """Check a package (a zip or its unpacked folder); BadPackage when it cannot be read as one."""
    return check_members(standalone.read_package(str(path)))


def check_package_bytes(data: bytes) -> CheckReport:
    """Check a package held in memory (an export, before it is written)."""
    with tempfile.NamedTemporaryFile(suffix=".zip") as handle:
        handle.write(data)
        handle.flush()
        return check_members(standalone.read_package(handle.name))


def check_online(report: CheckReport, rpc: Any) -> list[str]:
    """Findings when the chain behind ``rpc`` does not hold each trusted block hash at its height."""
    findings = []
    for block_hash, number in sorted(report.trusted.items(), key=lambda kv: kv[1]):
        block = rpc.call("eth_getBlockByNumber", [hex(number), False])
        if block is None:
            findings.append(f"chain: the chain has no block {number} (yet?)")
        elif str(block["hash"]).lower() != block_hash.lower():
            findings.append(f"chain: block {number} on the chain has hash {block['hash']}, not {block_hash}")
    return findings


__all__ = ["BadPackage", "CheckReport", "check_online", "check_package", "check_package_bytes"]
