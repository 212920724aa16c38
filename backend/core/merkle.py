"""RFC 9162 (Certificate Transparency 2.0) Merkle trees over notice digests.

A bulk archive is anchored as one Merkle batch: the ledger keeps the tree head (root
and size) and each notice's receipt carries an inclusion proof from its digest to that
root. Hashing follows RFC 9162 section 2.1.1, with SHA-256:

* leaf hash ``SHA-256(0x00 || leaf)``, where a leaf is 32 bytes: for a batch of
  notices, :func:`member_leaf`, which commits to the notice's ocid and release id
  (its key) as well as to its digest, so that a root also says *which* notice each
  digest was anchored as;
* node hash ``SHA-256(0x01 || left || right)``;
* the empty tree's hash is ``SHA-256()`` of the empty string, and a tree of n > 1
  leaves splits at k, the largest power of two below n.

The 0x00/0x01 prefixes stop a leaf from passing for an interior node.

A root does not commit to its tree size. Checked against the wrong size, a valid path
can prove another leaf index: the path of leaf 2 in a tree of 3 also checks as leaf 1
of 2. So the size must come from the anchored tree head (the batch seal covers it),
never from the proof alone: pass it to :func:`verify_inclusion`, or compare it with
``proof.tree_size`` as the receipt check does.

Proofs travel in receipts as versioned JSON (``to_json`` / ``from_json``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from backend.errors import ProofFormatError

INCLUSION_PROOF_FORMAT: Final = "rfc9162-sha256/1"
"""``format`` of an inclusion proof's JSON form."""

CONSISTENCY_PROOF_FORMAT: Final = "rfc9162-sha256-consistency/1"
"""``format`` of a consistency proof's JSON form."""

HASH_SIZE: Final = 32
"""Bytes in a leaf (a notice digest), a node hash and a root."""

EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
"""MTH({}): the root of a tree without leaves."""

MAX_TREE_SIZE: Final = 2**53 - 1
"""Largest tree size a proof may state: sizes travel in canonical JSON, whose integers
stop at 2**53 - 1 (a path is then at most 53 hashes long)."""

_MAX_PATH_LENGTH: Final = 53
_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"
_HEX_HASH = re.compile(r"[0-9a-f]{64}")


MEMBER_LEAF_FORMAT: Final = "tenderledger-batch-member/1"
"""Domain tag of :func:`member_leaf`: a batch leaf can never pass for a bare digest."""

_MEMBER_TAG: Final = MEMBER_LEAF_FORMAT.encode() + b"\x00"
_MAX_TEXT: Final = 0xFFFF


def member_leaf(ocid: str, release_id: str, digest: bytes) -> bytes:
    """The 32-byte leaf of one batch member: it commits to the notice key and the digest.

    ``SHA-256(tag || 0x00 || u16(len ocid) || ocid || u16(len id) || id || digest)``, with
    UTF-8 text and big-endian lengths. Plain SHA-256 keeps it checkable with nothing but a
    standard library; the lengths make the encoding unambiguous.
    """
    ocid_bytes, id_bytes = ocid.encode(), release_id.encode()
    if len(digest) != HASH_SIZE:
        raise ValueError(f"a member digest is {HASH_SIZE} bytes, not {len(digest)}")
    if len(ocid_bytes) > _MAX_TEXT or len(id_bytes) > _MAX_TEXT:
        raise ValueError("ocid and release id must each be under 64 KiB")
    return hashlib.sha256(
        _MEMBER_TAG
        + len(ocid_bytes).to_bytes(2, "big")
        + ocid_bytes
        + len(id_bytes).to_bytes(2, "big")
        + id_bytes
        + digest
    ).digest()


def member_tree(members: Iterable[tuple[str, str, bytes]]) -> MerkleTree:
    """The tree of a batch over its (ocid, release id, digest) members, in order."""
    return MerkleTree([member_leaf(ocid, release_id, digest) for ocid, release_id, digest in members])


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of 32-byte notice digests."""
    return MerkleTree(leaves).root


# ---------------------------------------------------------------- proofs


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """RFC 9162 inclusion proof (section 2.1.3): leaf ``leaf_index`` of a ``tree_size`` tree.

    ``path`` lists the sibling hashes from the leaf up to the root.
    """

    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_size("tree_size", self.tree_size, minimum=1)
        _check_size("leaf_index", self.leaf_index, minimum=0)
        if self.leaf_index >= self.tree_size:
            raise _malformed(f"leaf_index {self.leaf_index} is not below tree_size {self.tree_size}")
        _check_path(self.path)

    def to_json(self) -> dict[str, object]:
        """The versioned JSON form that receipts carry."""
        return {
            "format": INCLUSION_PROOF_FORMAT,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "path": [node.hex() for node in self.path],
        }

    @classmethod
    def from_json(cls, data: object) -> InclusionProof:
        """Read the JSON form back; ProofFormatError for anything not written by to_json."""
        leaf_index, tree_size, path = _read_json(data, INCLUSION_PROOF_FORMAT, ("leaf_index", "tree_size"))
        return cls(leaf_index, tree_size, path)


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """RFC 9162 consistency proof (section 2.1.4): the first ``old_size`` leaves of a
    ``new_size`` tree are the whole of the older tree, unchanged."""

    old_size: int
    new_size: int
    path: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_size("old_size", self.old_size, minimum=0)
        _check_size("new_size", self.new_size, minimum=0)
        if self.old_size > self.new_size:
            raise _malformed(f"old_size {self.old_size} exceeds new_size {self.new_size}")
        _check_path(self.path)

    def to_json(self) -> dict[str, object]:
        """The versioned JSON form."""
        return {
            "format": CONSISTENCY_PROOF_FORMAT,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "path": [node.hex() for node in self.path],
        }

    @classmethod
    def from_json(cls, data: object) -> ConsistencyProof:
        """Read the JSON form back; ProofFormatError for anything not written by to_json."""
        old_size, new_size, path = _read_json(data, CONSISTENCY_PROOF_FORMAT, ("old_size", "new_size"))
        return cls(old_size, new_size, path)


def _malformed(problem: str) -> ProofFormatError:
    return ProofFormatError(
        f"malformed Merkle proof: {problem}",
        hint="The proof was not written by this version of tenderledger, or it was altered.",
    )


def _check_size(name: str, value: object, *, minimum: int) -> None:
    if type(value) is not int or not minimum <= value <= MAX_TREE_SIZE:
        raise _malformed(f"{name} must be an integer from {minimum} to {MAX_TREE_SIZE}, not {value!r:.40}")


def _check_path(path: object) -> None:
    if not isinstance(path, tuple) or len(path) > _MAX_PATH_LENGTH:
        raise _malformed(f"path must be a tuple of at most {_MAX_PATH_LENGTH} hashes")
    # map() keeps this check in C: the tree creates one proof per leaf of a batch.
    if not set(map(type, path)) <= {bytes} or not set(map(len, path)) <= {HASH_SIZE}:
        raise _malformed(f"every path entry must be {HASH_SIZE} bytes")


def _read_json(
    data: object, expected_format: str, int_fields: tuple[str, str]
) -> tuple[int, int, tuple[bytes, ...]]:
    """The two integers and the decoded path of a proof's JSON form (ranges are the
    dataclass's to check)."""
    if not isinstance(data, dict):
        raise _malformed(f"a proof is a JSON object, not {type(data).__name__}")
    if data.get("format") != expected_format:
        raise _malformed(f"unknown proof format {data.get('format')!r:.40}, expected {expected_format!r}")
    expected_keys = {"format", "path", *int_fields}
    if set(data) != expected_keys:
        raise _malformed(
            f"proof fields must be exactly {sorted(expected_keys)}, not {sorted(map(str, data))[:8]}"
        )
    path = data["path"]
    if not isinstance(path, list) or len(path) > _MAX_PATH_LENGTH:
        raise _malformed(f"path must be a list of at most {_MAX_PATH_LENGTH} hashes")
    for node in path:
        if not isinstance(node, str) or not _HEX_HASH.fullmatch(node):
            raise _malformed(f"path entries are 64 lowercase hexadecimal digits, not {node!r:.80}")
    for name in int_fields:
        if type(data[name]) is not int:
            raise _malformed(f"{name} must be an integer, not {data[name]!r:.40}")
    return data[int_fields[0]], data[int_fields[1]], tuple(bytes.fromhex(node) for node in path)


# ---------------------------------------------------------------- the tree


class MerkleTree:
    """An RFC 9162 tree over notice digests, with every level computed once.

    Level 0 holds the leaf hashes; each level above pairs its neighbours and carries a
    last unpaired node up unchanged. This builds exactly RFC 9162's tree (which splits
    at the largest power of two), and keeps every node, so that a proof is a lookup of
    one sibling per level instead of a recomputation of subtrees.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaves: Sequence[bytes]) -> None:
        """Build the tree over ``leaves``, 32-byte notice digests, in batch order."""
        for index, leaf in enumerate(leaves):
            if len(leaf) != HASH_SIZE:
                raise ValueError(f"leaf {index} is {len(leaf)} bytes; leaves are {HASH_SIZE}-byte digests")
        self._levels = _build_levels([leaf_hash(leaf) for leaf in leaves])

    @classmethod
    def from_leaf_hashes(cls, hashes: Sequence[bytes]) -> MerkleTree:
        """A tree over already-hashed leaves (each ``leaf_hash`` of its leaf data)."""
        tree = cls.__new__(cls)
        tree._levels = _build_levels(list(hashes))
        return tree

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0]) if self._levels else 0

    @property
    def root(self) -> bytes:
        """MTH of all leaves (EMPTY_ROOT for no leaves)."""
        return self._levels[-1][0] if self._levels else EMPTY_ROOT

    def inclusion_proof(self, leaf_index: int) -> InclusionProof:
        """PATH(leaf_index, D[n]) of RFC 9162 section 2.1.3.1."""
        if not 0 <= leaf_index < self.size:
            raise ValueError(f"no leaf {leaf_index} in a tree of {self.size} leaves")
        path = []
        index = leaf_index
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):  # else the node is carried up unpaired: nothing to prove
                path.append(level[sibling])
            index >>= 1
        return InclusionProof(leaf_index, self.size, tuple(path))

    def consistency_proof(self, old_size: int) -> ConsistencyProof:
        """PROOF(old_size, D[n]) of RFC 9162 section 2.1.4.1.

        Empty when old_size is 0 or the whole tree: nothing needs proving then.
        """
        if not 0 <= old_size <= self.size:
            raise ValueError(f"old_size {old_size} is not between 0 and {self.size}")
        path: list[bytes] = []
        if 0 < old_size < self.size:
            self._subproof(old_size, 0, self.size, True, path)
        return ConsistencyProof(old_size, self.size, tuple(path))

    def _subproof(self, m: int, start: int, n: int, whole: bool, path: list[bytes]) -> None:
        """SUBPROOF(m, D[start:start+n], whole), appended to path."""
        if m == n:
            if not whole:
                path.append(self._subtree_hash(start, n))
            return
        k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two below n
        if m <= k:
            self._subproof(m, start, k, whole, path)
            path.append(self._subtree_hash(start + k, n - k))
        else:
            self._subproof(m - k, start + k, n - k, False, path)
            path.append(self._subtree_hash(start, k))

    def _subtree_hash(self, start: int, n: int) -> bytes:
        """MTH(D[start:start+n]) for a subtree the RFC recursion reaches.

        Those start at a multiple of 2**level, where 2**level is the smallest power of
        two >= n, and either hold 2**level leaves or end the tree: exactly the node at
        that level.
        """
        level = (n - 1).bit_length()
        return self._levels[level][start >> level]


def _build_levels(hashes: list[bytes]) -> list[list[bytes]]:
    """Every level of the tree over ``hashes``, leaves first, root last ([] if none)."""
    if not hashes:
        return []
    levels = [hashes]
    sha256 = hashlib.sha256
    while len(hashes) > 1:
        pairs = iter(hashes)
        upper = [
            sha256(_NODE_PREFIX + left + right).digest() for left, right in zip(pairs, pairs, strict=False)
        ]
        if len(hashes) % 2:
            upper.append(hashes[-1])
        levels.append(upper)
        hashes = upper
    return levels


# ---------------------------------------------------------------- verification


def root_from_inclusion_proof(hashed_leaf: bytes, proof: InclusionProof) -> bytes | None:
    """The root that ``proof`` leads to from a leaf hash (RFC 9162 section 2.1.3.2, steps 1-4).

    None when the path does not fit the proof's index and size.
    """
    # 1. leaf_index < tree_size holds for every InclusionProof (checked on creation).
    # 2. fn is the leaf index, sn the last index.
    fn, sn = proof.leaf_index, proof.tree_size - 1
    # 3.
    r = hashed_leaf
    # 4.
    for p in proof.path:
        # a. The path is longer than the tree is high.
        if sn == 0:
            return None
        # b. p is a left sibling when fn is a right child or the tree's last node.
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Skip the levels where this node was carried up unpaired.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        # c.
        fn >>= 1
        sn >>= 1
    # 5. (first half) The path must reach the top of the tree.
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, proof: InclusionProof, root: bytes, *, tree_size: int | None = None
) -> bool:
    """Whether ``proof`` shows the notice digest ``leaf`` under ``root`` (RFC 9162 2.1.3.2).

    ``tree_size`` is the size anchored with ``root``; when given, a proof for any other
    size fails. Without it the caller must compare ``proof.tree_size`` itself (see the
    module docstring for why).
    """
    if len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    if tree_size is not None and tree_size != proof.tree_size:
        return False
    return root_from_inclusion_proof(leaf_hash(leaf), proof) == root


def verify_consistency(proof: ConsistencyProof, old_root: bytes, new_root: bytes) -> bool:
    """Whether the ``old_size`` tree with ``old_root`` is a prefix of the ``new_size``
    tree with ``new_root`` (RFC 9162 section 2.1.4.2).

    The RFC covers 0 < old_size < new_size. Beyond it: equal sizes are consistent when
    the roots are equal and the path empty; the empty tree (whose root is EMPTY_ROOT)
    is a prefix of every tree, with an empty path.
    """
    first, second, path = proof.old_size, proof.new_size, list(proof.path)
    if first == second:
        return not path and old_root == new_root
    if first == 0:
        return not path and old_root == EMPTY_ROOT
    # 1.
    if not path:
        return False
    # 2.
    if first & (first - 1) == 0:
        path.insert(0, old_root)
    # 3.
    fn, sn = first - 1, second - 1
    # 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        # a.
        if sn == 0:
            return False
        # b.
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        # c.
        fn >>= 1
        sn >>= 1
    # 7.
    return fr == old_root and sr == new_root and sn == 0
