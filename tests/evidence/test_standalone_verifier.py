"""The standalone verifier's own cryptography, held against the project's on vectors and random inputs."""

from __future__ import annotations

import ast
import hashlib
import random
import sys
from pathlib import Path

import coincurve
import pytest
import rlp
from trie.hexary import HexaryTrie

from backend.core import merkle
from backend.core.hashing import keccak256
from backend.core.seal import (
    SealedFields,
    address_of_private_key,
    batch_struct_hash,
    domain_separator,
    notice_struct_hash,
    seal_batch,
    seal_notice,
    sign_hash,
    typed_data_hash,
)
from backend.evidence import verify_evidence as standalone

SOURCE = Path(standalone.__file__)


def test_source_is_one_file_of_standard_library_python_39_under_800_lines() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 800
    tree = ast.parse(text, feature_version=(3, 9))  # no match, no parenthesised context managers, ...
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add((node.module or "").split(".")[0])
    assert imported, "the verifier imports nothing?"
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported - set(sys.stdlib_module_names)


KECCAK_VECTORS = {
    b"": "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    b"abc": "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
    b"The quick brown fox jumps over the lazy dog": (
        "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"
    ),
}


@pytest.mark.parametrize(("data", "expected"), KECCAK_VECTORS.items())
def test_keccak_vectors(data: bytes, expected: str) -> None:
    assert standalone.keccak256(data).hex() == expected
    assert keccak256(data).hex() == expected


def test_keccak_matches_the_project_on_random_inputs_and_every_padding_boundary() -> None:
    rng = random.Random(8785)
    lengths = [*range(0, 300), 1000, 4096, 10_000]
    for length in lengths:
        data = rng.randbytes(length)
        assert standalone.keccak256(data) == keccak256(data), length


def test_signature_recovery_matches_coincurve_on_random_keys_and_messages() -> None:
    rng = random.Random(9162)
    for _ in range(40):
        key = coincurve.PrivateKey(rng.randbytes(32))
        message = rng.randbytes(32)
        seal = sign_hash(key.secret, message)
        expected = address_of_private_key(key.secret)
        assert standalone.recover_signer(message, seal) == expected


def test_recovery_refuses_what_the_contract_refuses() -> None:
    message = hashlib.sha256(b"notice").digest()
    seal = sign_hash(bytes(31) + b"\x07", message)
    r, s, v = seal[:32], int.from_bytes(seal[32:64], "big"), seal[64]
    high_s = r + (standalone._N - s).to_bytes(32, "big") + bytes([v ^ 1])
    for bad in (seal[:64], seal[:64] + b"\x1d", high_s, bytes(32) + seal[32:]):
        with pytest.raises(ValueError, match="seal"):
            standalone.recover_signer(message, bad)


def test_eip712_hashes_match_the_project() -> None:
    ledger = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    fields = SealedFields("ocds-b5fd17-1", "rel-1", 3, bytes(range(32)), bytes(32), 1_800_000_000)
    seal = seal_notice(bytes(31) + b"\x09", fields, chain_id=31337, contract=ledger)
    log = standalone.AnchorLog(
        kind="notice",
        address=bytes.fromhex(ledger[2:]),
        agency=1,
        signer=address_of_private_key(bytes(31) + b"\x09"),
        seal=seal,
        ocid=fields.ocid,
        release_id=fields.release_id,
        stage=fields.stage,
        digest=fields.digest,
        previous=fields.previous,
        deadline=fields.deadline,
    )
    assert standalone.seal_struct_hash(log) == notice_struct_hash(fields)
    expected = typed_data_hash(domain_separator(31337, ledger), notice_struct_hash(fields))
    assert standalone.typed_data_hash(31337, log.address, standalone.seal_struct_hash(log)) == expected
    assert standalone.recover_signer(expected, seal) == log.signer
    root = hashlib.sha256(b"root").digest()
    batch_seal = seal_batch(bytes(31) + b"\x09", root, 5, "label", chain_id=31337, contract=ledger)
    batch = standalone.AnchorLog(
        "batch", log.address, 1, log.signer, batch_seal, root=root, size=5, label="label"
    )
    assert standalone.seal_struct_hash(batch) == batch_struct_hash(root, 5, "label")


def _random_item(rng: random.Random, depth: int = 0) -> object:
    if depth > 2 or rng.random() < 0.5:
        return rng.randbytes(rng.choice([0, 1, 1, 2, 20, 55, 56, 300]))
    return [_random_item(rng, depth + 1) for _ in range(rng.randrange(0, 6))]


def test_rlp_decoding_matches_pyrlp_and_refuses_non_canonical_input() -> None:
    rng = random.Random(2718)
    for _ in range(300):
        item = _random_item(rng)
        assert standalone.rlp_decode(rlp.encode(item)) == item
    for bad in (b"\x81\x05", b"\xb8\x01\x00", b"\x83ab", b"\xc2\x01", b"\x80\x80", b""):
        with pytest.raises(ValueError, match="RLP"):
            standalone.rlp_decode(bad)
    for index in (0, 1, 127, 128, 255, 256, 70_000):
        assert standalone.rlp_encode_int(index) == rlp.encode(index)


def test_trie_proofs_match_py_trie_for_present_and_absent_keys() -> None:
    rng = random.Random(1600)
    for size in (1, 2, 3, 17, 130):
        trie = HexaryTrie(db={})
        values = {}
        for _ in range(size):
            key = keccak256(rng.randbytes(8)) if rng.random() < 0.5 else rlp.encode(rng.randrange(300))
            values[key] = rng.randbytes(rng.choice([1, 10, 40, 120]))
            trie[key] = values[key]
        for key in [*list(values)[:10], keccak256(b"absent"), rlp.encode(9999)]:
            nodes = ["0x" + rlp.encode(node).hex() for node in trie.get_proof(key)]
            long_nodes = [n for n in nodes if len(n) >= 2 + 64 or n == nodes[0]]
            found = standalone.NodeSet(long_nodes, "test").get(trie.root_hash, key)
            assert found == (HexaryTrie.get_from_proof(trie.root_hash, key, trie.get_proof(key)) or None)
            assert found == values.get(key)


def test_a_changed_trie_node_is_caught() -> None:
    trie = HexaryTrie(db={})
    for index in range(40):
        trie[rlp.encode(index)] = bytes([index]) * 50
    nodes = [rlp.encode(node) for node in trie.get_proof(rlp.encode(7))]
    for position in range(len(nodes)):
        damaged = bytearray(nodes[position])
        damaged[len(damaged) // 2] ^= 1
        changed = [*nodes[:position], bytes(damaged), *nodes[position + 1 :]]
        node_set = standalone.NodeSet(["0x" + n.hex() for n in changed], "receipts proof")
        with pytest.raises(standalone.Finding, match="receipts proof"):
            node_set.get(trie.root_hash, rlp.encode(7))


def test_inclusion_proofs_match_the_project_merkle_tree() -> None:
    rng = random.Random(42)
    for size in (1, 2, 3, 5, 8, 13, 64, 100):
        members = [(f"ocds-x-{i}", f"r{i}", rng.randbytes(32)) for i in range(size)]
        tree = merkle.member_tree(members)
        for index in {0, size // 2, size - 1}:
            proof = tree.inclusion_proof(index)
            leaf = standalone.member_leaf(*members[index])
            assert leaf == merkle.member_leaf(*members[index])
            assert standalone.inclusion_root(leaf, index, size, list(proof.path)) == tree.root
            if size > 1:
                assert (
                    standalone.inclusion_root(leaf, (index + 1) % size, size, list(proof.path)) != tree.root
                )
