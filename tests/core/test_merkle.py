"""RFC 9162 Merkle trees: reference vectors, the RFC's own definitions, and tampering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backend.core.merkle import (
    CONSISTENCY_PROOF_FORMAT,
    EMPTY_ROOT,
    INCLUSION_PROOF_FORMAT,
    MAX_TREE_SIZE,
    ConsistencyProof,
    InclusionProof,
    MerkleTree,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from backend.errors import InputError, ProofFormatError

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "merkle.json").read_text(encoding="ascii"))
REFERENCE = VECTORS["rfc6962_reference"]
OURS = VECTORS["tenderledger"]


def unhex(values: list[str]) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(value) for value in values)


def digest(n: int) -> bytes:
    return hashlib.sha256(f"notice {n}".encode()).digest()


# ---------------------------------------------------------------- the RFC's definitions, verbatim


def rfc_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]), RFC 9162 section 2.1.1, recursively: the slow, obvious way."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc_mth(leaves[:k]) + rfc_mth(leaves[k:])).digest()


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 section 2.1.3.1."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*rfc_path(m, leaves[:k]), rfc_mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), rfc_mth(leaves[:k])]


# ---------------------------------------------------------------- golden vectors


def test_the_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert MerkleTree([]).root.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MerkleTree([]).size == 0


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )
    # A leaf holding two node hashes must not pass for their parent node.
    left, right = leaf_hash(b"l"), leaf_hash(b"r")
    assert leaf_hash(left + right) != node_hash(left, right)


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_reference_roots(size: int) -> None:
    leaves = unhex(REFERENCE["leaves"])[:size]
    tree = MerkleTree.from_leaf_hashes([leaf_hash(leaf) for leaf in leaves])
    assert tree.root.hex() == REFERENCE["roots"][size]
    assert tree.size == size


@pytest.mark.parametrize(
    "vector", REFERENCE["inclusion_proofs"], ids=lambda v: f"{v['leaf_index']}-of-{v['tree_size']}"
)
def test_rfc6962_reference_inclusion_proofs(vector: dict[str, Any]) -> None:
    leaves = unhex(REFERENCE["leaves"])
    tree = MerkleTree.from_leaf_hashes([leaf_hash(leaf) for leaf in leaves[: vector["tree_size"]]])
    proof = tree.inclusion_proof(vector["leaf_index"])
    assert proof.path == unhex(vector["path"])
    root = bytes.fromhex(REFERENCE["roots"][vector["tree_size"]])
    assert root_from_inclusion_proof(leaf_hash(leaves[vector["leaf_index"]]), proof) == root


@pytest.mark.parametrize(
    "vector", REFERENCE["consistency_proofs"], ids=lambda v: f"{v['old_size']}-to-{v['new_size']}"
)
def test_rfc6962_reference_consistency_proofs(vector: dict[str, Any]) -> None:
    leaves = unhex(REFERENCE["leaves"])
    tree = MerkleTree.from_leaf_hashes([leaf_hash(leaf) for leaf in leaves[: vector["new_size"]]])
    proof = tree.consistency_proof(vector["old_size"])
    assert proof.path == unhex(vector["path"])
    old_root = bytes.fromhex(REFERENCE["roots"][vector["old_size"]])
    assert verify_consistency(proof, old_root, tree.root)


@pytest.mark.parametrize("size", [int(size) for size in OURS["roots"]])
def test_notice_digest_tree_roots(size: int) -> None:
    leaves = list(unhex(OURS["leaves"]))[:size]
    assert leaves == [hashlib.sha256(f"tenderledger notice {i}".encode()).digest() for i in range(size)]
    assert MerkleTree(leaves).root.hex() == OURS["roots"][str(size)]
    assert merkle_root(leaves).hex() == OURS["roots"][str(size)]


def test_notice_digest_tree_inclusion_proofs_in_their_json_form() -> None:
    leaves = list(unhex(OURS["leaves"]))
    assert len(OURS["inclusion_proofs"]) == 1 + 2 + 3 + 5 + 7 + 8
    for vector in OURS["inclusion_proofs"]:
        tree = MerkleTree(leaves[: vector["tree_size"]])
        proof = tree.inclusion_proof(vector["leaf_index"])
        assert proof.to_json() == vector
        assert InclusionProof.from_json(vector) == proof
        assert verify_inclusion(leaves[vector["leaf_index"]], proof, tree.root, tree_size=vector["tree_size"])


def test_notice_digest_tree_consistency_proofs_in_their_json_form() -> None:
    leaves = list(unhex(OURS["leaves"]))
    for vector in OURS["consistency_proofs"]:
        tree = MerkleTree(leaves[: vector["new_size"]])
        proof = tree.consistency_proof(vector["old_size"])
        assert proof.to_json() == vector
        assert ConsistencyProof.from_json(vector) == proof
        assert verify_consistency(proof, rfc_mth(leaves[: vector["old_size"]]), tree.root)


# ---------------------------------------------------------------- properties

digest_lists = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70, unique=True)


@settings(max_examples=150, deadline=None)
@given(digest_lists)
def test_tree_and_proofs_equal_the_rfc_definitions(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    assert tree.root == rfc_mth(leaves)
    for index in range(len(leaves)):
        assert list(tree.inclusion_proof(index).path) == rfc_path(index, leaves)


@settings(max_examples=150, deadline=None)
@given(digest_lists)
def test_every_leaf_proof_verifies_against_the_root(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    for index, leaf in enumerate(leaves):
        proof = tree.inclusion_proof(index)
        assert verify_inclusion(leaf, proof, tree.root)
        assert verify_inclusion(leaf, proof, tree.root, tree_size=len(leaves))


def flip_bit(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@settings(max_examples=300, deadline=None)
@given(leaves=digest_lists, data=st.data())
def test_any_flipped_bit_fails_the_proof(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = tree.inclusion_proof(index)
    bit = data.draw(st.integers(0, 255))
    assert not verify_inclusion(flip_bit(leaves[index], bit), proof, tree.root)
    assert not verify_inclusion(leaves[index], proof, flip_bit(tree.root, bit))
    if proof.path:
        step = data.draw(st.integers(0, len(proof.path) - 1))
        path = list(proof.path)
        path[step] = flip_bit(path[step], bit)
        assert not verify_inclusion(leaves[index], InclusionProof(index, len(leaves), tuple(path)), tree.root)


@settings(max_examples=300, deadline=None)
@given(leaves=digest_lists, data=st.data())
def test_a_wrong_leaf_index_fails_the_proof(leaves: list[bytes], data: st.DataObject) -> None:
    assume(len(leaves) > 1)
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    wrong = data.draw(st.integers(0, len(leaves) - 1).filter(lambda other: other != index))
    moved = InclusionProof(wrong, len(leaves), tree.inclusion_proof(index).path)
    assert not verify_inclusion(leaves[index], moved, tree.root)


@settings(max_examples=300, deadline=None)
@given(leaves=digest_lists, data=st.data())
def test_a_wrong_tree_size_fails_the_proof(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    size = data.draw(st.integers(index + 1, 4 * len(leaves)).filter(lambda other: other != len(leaves)))
    resized = InclusionProof(index, size, tree.inclusion_proof(index).path)
    # Checked against the size anchored with the root, as receipts are:
    assert not verify_inclusion(leaves[index], resized, tree.root, tree_size=len(leaves))
    # Against the size the proof claims, the root of that size's tree is another root:
    other_tree = MerkleTree([*leaves, *(digest(n) for n in range(max(0, size - len(leaves))))][:size])
    assert not verify_inclusion(leaves[index], resized, other_tree.root, tree_size=size)


def test_a_root_alone_does_not_pin_the_tree_size() -> None:
    # Why verify_inclusion takes the anchored tree_size: leaf 2's path in a tree of 3
    # also leads to the same root as "leaf 1 of a tree of 2".
    leaves = [digest(0), digest(1), digest(2)]
    tree = MerkleTree(leaves)
    honest = tree.inclusion_proof(2)
    forged = InclusionProof(1, 2, honest.path)
    assert verify_inclusion(leaves[2], forged, tree.root)
    assert not verify_inclusion(leaves[2], forged, tree.root, tree_size=3)


def test_proofs_that_are_too_long_or_too_short_fail() -> None:
    leaves = [digest(n) for n in range(6)]
    tree = MerkleTree(leaves)
    proof = tree.inclusion_proof(4)
    longer = InclusionProof(4, 6, (*proof.path, tree.root))
    shorter = InclusionProof(4, 6, proof.path[:-1])
    assert not verify_inclusion(leaves[4], longer, tree.root)
    assert not verify_inclusion(leaves[4], shorter, tree.root)
    assert root_from_inclusion_proof(leaf_hash(leaves[4]), longer) is None
    assert root_from_inclusion_proof(leaf_hash(leaves[4]), shorter) is None


@pytest.mark.parametrize(("leaf", "root"), [(bytes(31), bytes(32)), (bytes(32), bytes(33)), (b"", b"")])
def test_verification_fails_for_values_of_the_wrong_size(leaf: bytes, root: bytes) -> None:
    proof = MerkleTree([bytes(32)]).inclusion_proof(0)
    assert not verify_inclusion(leaf, proof, root)


def test_a_single_leaf_tree_has_an_empty_proof_and_its_leaf_hash_as_root() -> None:
    tree = MerkleTree([digest(0)])
    assert tree.root == leaf_hash(digest(0))
    assert tree.inclusion_proof(0).path == ()
    assert verify_inclusion(digest(0), tree.inclusion_proof(0), tree.root, tree_size=1)


@settings(max_examples=200, deadline=None)
@given(leaves=digest_lists, data=st.data())
def test_consistency_proofs_verify_and_tampering_fails(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    old_size = data.draw(st.integers(0, len(leaves)))
    old_root = MerkleTree(leaves[:old_size]).root
    proof = tree.consistency_proof(old_size)
    assert verify_consistency(proof, old_root, tree.root)
    bit = data.draw(st.integers(0, 255))
    assert not verify_consistency(proof, flip_bit(old_root, bit), tree.root)
    if old_size:  # every tree extends the empty one, whatever its root
        assert not verify_consistency(proof, old_root, flip_bit(tree.root, bit))
    if proof.path:
        step = data.draw(st.integers(0, len(proof.path) - 1))
        path = list(proof.path)
        path[step] = flip_bit(path[step], bit)
        assert not verify_consistency(
            ConsistencyProof(old_size, len(leaves), tuple(path)), old_root, tree.root
        )
        assert not verify_consistency(
            ConsistencyProof(old_size, len(leaves), proof.path[:-1]), old_root, tree.root
        )
    if 0 < old_size < len(leaves):
        assert not verify_consistency(proof, tree.root, old_root)  # roots swapped


def test_a_changed_old_leaf_breaks_consistency() -> None:
    leaves = [digest(n) for n in range(7)]
    rewritten = [digest(99), *leaves[1:3]]
    proof = MerkleTree(leaves).consistency_proof(3)
    assert not verify_consistency(proof, MerkleTree(rewritten).root, MerkleTree(leaves).root)


def test_consistency_at_the_edges() -> None:
    tree = MerkleTree([digest(n) for n in range(4)])
    assert verify_consistency(ConsistencyProof(4, 4, ()), tree.root, tree.root)
    assert not verify_consistency(ConsistencyProof(4, 4, ()), EMPTY_ROOT, tree.root)
    assert not verify_consistency(ConsistencyProof(4, 4, (tree.root,)), tree.root, tree.root)
    assert verify_consistency(ConsistencyProof(0, 4, ()), EMPTY_ROOT, tree.root)
    assert not verify_consistency(ConsistencyProof(0, 4, ()), tree.root, tree.root)
    assert not verify_consistency(
        ConsistencyProof(2, 4, ()), MerkleTree([digest(0), digest(1)]).root, tree.root
    )


def test_100000_leaves_build_and_prove() -> None:
    # Levels are computed once, so every proof is a lookup (no timing asserted here:
    # benchmarks measure speed).
    leaves = [hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(100_000)]
    tree = MerkleTree(leaves)
    proofs = [tree.inclusion_proof(index) for index in range(tree.size)]
    # 100,000 = 65,536 + 32,768 + 1,024 + 512 + 128 + 32. The deepest leaves are 17
    # levels down; the last leaf has 5 siblings inside its 32-leaf subtree and one per
    # subtree to its left (65,536, 32,768, 1,024, 512 and 128 leaves).
    assert max(len(proof.path) for proof in proofs) == 17
    assert len(proofs[-1].path) == 10
    for index in [*range(0, tree.size, 997), *range(tree.size - 2000, tree.size)]:
        assert verify_inclusion(leaves[index], proofs[index], tree.root, tree_size=100_000)
    assert verify_consistency(tree.consistency_proof(65_537), merkle_root(leaves[:65_537]), tree.root)


# ---------------------------------------------------------------- building and JSON forms


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33), "ab" * 32])
def test_leaves_must_be_32_byte_digests(bad: Any) -> None:
    with pytest.raises(ValueError, match="leaf 1 is"):
        MerkleTree([bytes(32), bad])


@pytest.mark.parametrize("index", [-1, 3])
def test_proofs_exist_only_for_leaves_of_the_tree(index: int) -> None:
    with pytest.raises(ValueError, match="no leaf"):
        MerkleTree([digest(0), digest(1), digest(2)]).inclusion_proof(index)
    with pytest.raises(ValueError, match="old_size"):
        MerkleTree([digest(0)]).consistency_proof(index if index < 0 else 2)


def test_the_json_forms_are_versioned() -> None:
    tree = MerkleTree([digest(n) for n in range(5)])
    assert tree.inclusion_proof(3).to_json() == {
        "format": INCLUSION_PROOF_FORMAT,
        "leaf_index": 3,
        "tree_size": 5,
        "path": [node.hex() for node in tree.inclusion_proof(3).path],
    }
    assert INCLUSION_PROOF_FORMAT == "rfc9162-sha256/1"
    assert (
        tree.consistency_proof(2).to_json()["format"]
        == CONSISTENCY_PROOF_FORMAT
        == "rfc9162-sha256-consistency/1"
    )


@settings(max_examples=100, deadline=None)
@given(leaves=digest_lists, data=st.data())
def test_proofs_survive_a_json_round_trip(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    proof = tree.inclusion_proof(data.draw(st.integers(0, len(leaves) - 1)))
    assert InclusionProof.from_json(json.loads(json.dumps(proof.to_json()))) == proof
    consistency = tree.consistency_proof(data.draw(st.integers(0, len(leaves))))
    assert ConsistencyProof.from_json(json.loads(json.dumps(consistency.to_json()))) == consistency


GOOD = {"format": "rfc9162-sha256/1", "leaf_index": 1, "tree_size": 2, "path": ["ab" * 32]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "rfc9162-sha256/2"}, "unknown proof format"),
        ({"format": None}, "unknown proof format"),
        ({"extra": 1}, "proof fields must be exactly"),
        ({"leaf_index": True}, "leaf_index must be an integer"),
        ({"tree_size": 2.0}, "tree_size must be an integer"),
        ({"leaf_index": -1}, "leaf_index must be an integer from 0"),
        ({"tree_size": 0, "leaf_index": 0}, "tree_size must be an integer from 1"),
        ({"tree_size": MAX_TREE_SIZE + 1}, "tree_size must be an integer from 1"),
        ({"leaf_index": 2}, "leaf_index 2 is not below tree_size 2"),
        ({"path": "ab" * 32}, "path must be a list"),
        ({"path": ["AB" * 32]}, "64 lowercase hexadecimal digits"),
        ({"path": ["ab" * 31]}, "64 lowercase hexadecimal digits"),
        ({"path": ["0x" + "ab" * 31]}, "64 lowercase hexadecimal digits"),
        ({"path": [None]}, "64 lowercase hexadecimal digits"),
        ({"path": ["ab" * 32] * 54}, "at most 53 hashes"),
    ],
)
def test_malformed_proof_json_is_refused(change: dict[str, Any], message: str) -> None:
    assert InclusionProof.from_json(GOOD).leaf_index == 1
    with pytest.raises(ProofFormatError, match=message) as caught:
        InclusionProof.from_json({**GOOD, **change})
    assert isinstance(caught.value, InputError)
    assert str(caught.value).startswith("malformed Merkle proof: ")
    assert "\n" not in str(caught.value)
    assert caught.value.hint


def test_a_proof_json_must_be_an_object_with_every_field() -> None:
    with pytest.raises(ProofFormatError, match="a proof is a JSON object"):
        InclusionProof.from_json([GOOD])
    with pytest.raises(ProofFormatError, match="proof fields must be exactly"):
        InclusionProof.from_json({key: value for key, value in GOOD.items() if key != "path"})
    with pytest.raises(ProofFormatError, match="unknown proof format"):
        ConsistencyProof.from_json(GOOD)
    with pytest.raises(ProofFormatError, match="old_size 3 exceeds new_size 2"):
        ConsistencyProof.from_json(
            {"format": CONSISTENCY_PROOF_FORMAT, "old_size": 3, "new_size": 2, "path": []}
        )


def test_proofs_are_immutable() -> None:
    proof = MerkleTree([digest(0), digest(1)]).inclusion_proof(0)
    with pytest.raises(AttributeError):
        proof.leaf_index = 1  # type: ignore[misc]
