#!/usr/bin/env python3
"""Check a tenderledger evidence package with nothing but Python 3.9 or newer (standard library only).

    python3 -I verify_evidence.py PACKAGE        (the .zip, or the folder it was unpacked to)

For each notice, from one block hash: (1) its bytes hash to its digest (SHA-256 of a
release's RFC 8785 bytes, or of a document's raw bytes); (2) the header's RLP hashes to the
block hash, and Merkle-Patricia proofs put the transaction under its transactionsRoot and a
successful receipt holding the ledger's NoticeAnchored (or BatchAnchored) log, with that
digest, notice key, stage and seal, under its receiptsRoot; (3) the seal recovers (EIP-712,
secp256k1) to the signer the log names, under the domain of that chain id and contract;
(4) an account and storage proof under the stateRoot shows the signer a seal key of that
agency, added and not revoked before the block, and the agency's registered name hash;
(5) a batch member's RFC 9162 inclusion proof leads to the root the log anchored. Last, it
prints what it had to trust: each block hash and its height, to compare with any node,
checkpoint or witness. Exit 0: all proven; 1: a finding (the line names the part); 2: the
package cannot be read. Keccak-256, RLP, the trie proofs and secp256k1 recovery are its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import zipfile
from dataclasses import dataclass

FORMAT = "tenderledger-evidence/1"
RECEIPT_FORMAT = "tenderledger-receipt/2"
SEAL_FORMAT = "eip712-secp256k1/1"
PROOF_FILE = "proof.json"
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
SLOT_AGENCY_NAMES = 6  # NoticeLedger storage: mapping(uint32 => bytes32) _agencyNames
SLOT_KEYS = 8  # mapping(address => SealKey{uint32 agency, uint40 addedBlock, uint40 revokedBlock}) _keys
# Stage codes 1..16, as the ledger numbers them.
STAGES = "planning planningUpdate tender tenderAmendment tenderUpdate tenderCancellation award awardUpdate awardCancellation contract contractUpdate contractAmendment implementation implementationUpdate contractTermination document".split()  # noqa: E501, SIM905
DOCUMENT_STAGE = 16


class BadPackage(Exception):  # noqa: N818 - named for what the reader is told
    """The package cannot be read as one: exit 2."""


class Finding(Exception):  # noqa: N818
    """A check failed: ``part`` names what failed (exit 1)."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part}: {message}")


# ---------------------------------------------------------------- Keccak-256

_MASK64 = (1 << 64) - 1
_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
# Rotation offsets r[x][y] of the rho step (FIPS 202, table 2).
_ROTATIONS = ((0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61), (28, 55, 25, 21, 56), (27, 20, 39, 8, 14))  # fmt: skip  # noqa: E501
_RATE = 136  # bytes: 1600 - 2 * 256 bits of capacity


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK64 if shift else value


def _keccak_f(a: list[int]) -> list[int]:
    """Keccak-f[1600] on 25 lanes, lane (x, y) at index x + 5 * y."""
    for constant in _ROUND_CONSTANTS:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]  # theta
        b = [0] * 25
        for x in range(5):  # rho and pi
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rotl(a[x + 5 * y], _ROTATIONS[x][y])
        a = [b[i] ^ (~b[(i + 1) % 5 + i // 5 * 5] & b[(i + 2) % 5 + i // 5 * 5]) for i in range(25)]  # chi
        a[0] ^= constant  # iota
    return a


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (the original padding 0x01, not SHA3-256's 0x06)."""
    padded = bytearray(data) + b"\x01" + bytes((-len(data) - 1) % _RATE)
    padded[-1] |= 0x80
    lanes = [0] * 25
    for start in range(0, len(padded), _RATE):
        for i in range(_RATE // 8):
            lanes[i] ^= int.from_bytes(padded[start + 8 * i : start + 8 * i + 8], "little")
        lanes = _keccak_f(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


# ---------------------------------------------------------------- RLP


def rlp_decode(data: bytes) -> object:
    """An RLP item (bytes, or a list of items); ValueError for anything not canonical RLP."""
    item, end = _rlp_item(data, 0)
    if end != len(data):
        raise ValueError("bytes after the RLP item")
    return item


def _rlp_length(data: bytes, start: int, size: int) -> int:
    if size > 8 or start + size > len(data) or data[start] == 0:
        raise ValueError("bad RLP length")
    return int.from_bytes(data[start : start + size], "big")


def _rlp_item(data: bytes, pos: int) -> tuple[object, int]:
    if pos >= len(data):
        raise ValueError("truncated RLP")
    first = data[pos]
    if first < 0x80:
        return data[pos : pos + 1], pos + 1
    is_list = first >= 0xC0
    start, length = pos + 1, first - (0xC0 if is_list else 0x80)
    if length >= 56:  # long form: the length of the length, then the length
        start, length = pos + 1 + length - 55, _rlp_length(data, pos + 1, length - 55)
        if length < 56:
            raise ValueError("RLP long form for a short item")
    end = start + length
    if end > len(data) or (not is_list and length == 1 and data[start] < 0x80):
        raise ValueError("truncated or non-canonical RLP")
    if not is_list:
        return data[start:end], end
    items = []
    while start < end:
        item, start = _rlp_item(data, start)
        items.append(item)
    if start != end:
        raise ValueError("RLP list overruns its length")
    return items, end


def rlp_encode_int(value: int) -> bytes:
    """RLP of a small non-negative integer (a transaction index: the tries' key)."""
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return raw if len(raw) == 1 and raw[0] < 0x80 else bytes([0x80 + len(raw)]) + raw


def _as_bytes(item: object, what: str) -> bytes:
    if not isinstance(item, bytes):
        raise ValueError(f"{what} is not an RLP string")
    return item


def _as_list(item: object, what: str, length: int = -1) -> list[object]:
    if not isinstance(item, list) or (length >= 0 and len(item) != length):
        raise ValueError(f"{what} is not an RLP list" + (f" of {length}" if length >= 0 else ""))
    return item


# ---------------------------------------------------------------- Merkle-Patricia proofs


def _nibbles(key: bytes) -> list[int]:
    return [n for byte in key for n in (byte >> 4, byte & 15)]


class NodeSet:
    """The nodes of a proof, by hash; remembers which were used, so none is there for nothing."""

    def __init__(self, nodes_hex: object, part: str) -> None:
        if not isinstance(nodes_hex, list) or not all(isinstance(n, str) for n in nodes_hex):
            raise Finding(part, "the proof is not a list of hex nodes")
        self.part = part
        self.nodes = {}
        for text in nodes_hex:
            raw = unhex(text, part)
            self.nodes[keccak256(raw)] = raw
        self.used: set[bytes] = set()

    def get(self, root: bytes, key: bytes) -> bytes | None:
        """The value under ``key`` in the trie with ``root`` (None when the proof shows it absent)."""
        try:
            return self._walk(_nibbles(key), root)
        except ValueError as exc:
            raise Finding(self.part, str(exc)) from None

    def _walk(self, path: list[int], ref: object) -> bytes | None:
        while True:
            if isinstance(ref, bytes) and len(ref) == 32:
                raw = self.nodes.get(ref)
                if raw is None:
                    raise ValueError(f"node 0x{ref.hex()[:16]}... that the path needs is not in the proof")
                self.used.add(ref)
                node = _as_list(rlp_decode(raw), "a trie node")
            elif isinstance(ref, list):  # a node shorter than 32 bytes, embedded in its parent
                node = ref
            elif ref == b"":
                return None
            else:
                raise ValueError("a malformed node reference")
            if len(node) == 17:
                if not path:
                    return _as_bytes(node[16], "a branch value") or None
                ref, path = node[path[0]], path[1:]
            elif len(node) == 2:
                encoded = _nibbles(_as_bytes(node[0], "a node path"))
                if not encoded or encoded[0] > 3:
                    raise ValueError("a node path with a bad prefix")
                rest = encoded[2:] if encoded[0] % 2 == 0 else encoded[1:]
                if encoded[0] >= 2:  # a leaf
                    return _as_bytes(node[1], "a leaf value") if rest == path else None
                if path[: len(rest)] != rest:
                    return None
                ref, path = node[1], path[len(rest) :]
            else:
                raise ValueError("a trie node that is neither branch, extension nor leaf")

    def all_used(self) -> None:
        unused = len(self.nodes) - len(self.used)
        if unused:
            raise Finding(self.part, f"{unused} node(s) in the proof are on no path it proves")


# ---------------------------------------------------------------- secp256k1 and EIP-712

_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798, 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)  # fmt: skip  # noqa: E501


def _add(p: tuple[int, int] | None, q: tuple[int, int] | None) -> tuple[int, int] | None:
    """Point addition in affine coordinates; None is the point at infinity."""
    if p is None or q is None:
        return q if p is None else p
    if p[0] == q[0]:
        if (p[1] + q[1]) % _P == 0:
            return None
        slope = 3 * p[0] * p[0] * pow(2 * p[1], -1, _P) % _P
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, _P) % _P
    x = (slope * slope - p[0] - q[0]) % _P
    return (x, (slope * (p[0] - x) - p[1]) % _P)


def _multiply(k: int, point: tuple[int, int]) -> tuple[int, int] | None:
    result = None
    addend: tuple[int, int] | None = point
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        k >>= 1
    return result


def checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case form of a 20-byte address."""
    text = raw.hex()
    hashed = keccak256(text.encode()).hex()
    return "0x" + "".join(c.upper() if int(hashed[i], 16) >= 8 else c for i, c in enumerate(text))


def recover_signer(message_hash: bytes, seal: bytes) -> str:
    """The address whose key made the 65-byte (r, s, v) ``seal`` over ``message_hash``.

    Refused like the contract refuses them: v not 27/28, r or s out of range, high s.
    """
    if len(seal) != 65:
        raise ValueError(f"a seal is 65 bytes, not {len(seal)}")
    r, s, v = int.from_bytes(seal[:32], "big"), int.from_bytes(seal[32:64], "big"), seal[64]
    if v not in (27, 28) or not 0 < r < _N or not 0 < s <= _N // 2:
        raise ValueError("a malformed or malleable seal (v, r or high s)")
    y_squared = (pow(r, 3, _P) + 7) % _P
    y = pow(y_squared, (_P + 1) // 4, _P)
    if y * y % _P != y_squared:
        raise ValueError("the seal's r is not on the curve")
    if y % 2 != v - 27:
        y = _P - y
    r_inverse = pow(r, -1, _N)
    e = int.from_bytes(message_hash, "big") % _N
    public = _add(_multiply(s * r_inverse % _N, (r, y)), _multiply(-e * r_inverse % _N, _G))
    if public is None:
        raise ValueError("the seal recovers to no key")
    return checksum_address(keccak256(public[0].to_bytes(32, "big") + public[1].to_bytes(32, "big"))[12:])


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _k(*parts: bytes) -> bytes:
    return keccak256(b"".join(parts))


DOMAIN_TYPE = b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
NOTICE_TYPE = (
    b"Notice(string ocid,string releaseId,uint8 stage,bytes32 digest,bytes32 previous,uint64 deadline)"
)
BATCH_TYPE = b"Batch(bytes32 root,uint32 size,string label)"


def typed_data_hash(chain_id: int, contract: bytes, struct_hash: bytes) -> bytes:
    """EIP-712: keccak256(0x1901 || domain separator of the ledger on that chain || hashStruct)."""
    domain = _k(_k(DOMAIN_TYPE), _k(b"tenderledger"), _k(b"1"), _word(chain_id), bytes(12), contract)
    return _k(b"\x19\x01", domain, struct_hash)


def seal_struct_hash(log: AnchorLog) -> bytes:
    """hashStruct of what the seal covers: the Notice, or the Batch root."""
    if log.kind == "batch":
        return _k(_k(BATCH_TYPE), log.root, _word(log.size), _k(log.label.encode()))
    text = _k(log.ocid.encode()) + _k(log.release_id.encode())
    return _k(_k(NOTICE_TYPE), text, _word(log.stage), log.digest, log.previous, _word(log.deadline))


def notice_key(ocid: str, release_id: str) -> bytes:
    return _k(_k(ocid.encode()), _k(release_id.encode()))


# ---------------------------------------------------------------- RFC 9162 inclusion


def member_leaf(ocid: str, release_id: str, digest: bytes) -> bytes:
    """A batch leaf: it commits to the notice's ocid, release id and digest."""
    o, i = ocid.encode(), release_id.encode()
    tag = b"tenderledger-batch-member/1\x00"
    return hashlib.sha256(
        tag + len(o).to_bytes(2, "big") + o + len(i).to_bytes(2, "big") + i + digest
    ).digest()


def inclusion_root(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """The root an RFC 9162 inclusion path leads to (section 2.1.3.2), None when it does not fit."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, hashlib.sha256(b"\x00" + leaf).digest()
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


# ---------------------------------------------------------------- the ledger's logs

NOTICE_TOPIC = keccak256(
    b"NoticeAnchored(bytes32,bytes32,bytes32,uint32,address,(string,string,uint8,bytes32,bytes32,uint64),bytes)"
)
BATCH_TOPIC = keccak256(b"BatchAnchored(bytes32,uint32,address,uint32,string,bytes)")


@dataclass(frozen=True)
class AnchorLog:
    """What a NoticeAnchored log (kind "notice") or a BatchAnchored log (kind "batch") says."""

    kind: str
    address: bytes
    agency: int
    signer: str
    seal: bytes
    key: bytes = b""
    ocid: str = ""
    release_id: str = ""
    stage: int = 0
    digest: bytes = b""
    previous: bytes = b""
    deadline: int = 0
    root: bytes = b""
    size: int = 0
    label: str = ""


def _abi_word(data: bytes, offset: int, length: int = 32) -> int:
    if offset < 0 or offset + length > len(data):
        raise ValueError("log data too short")
    return int.from_bytes(data[offset : offset + length], "big")


def _abi_bytes(data: bytes, offset: int) -> bytes:
    length = _abi_word(data, offset)
    return _abi_word(data, offset + 32, length).to_bytes(length, "big")


def decode_log(address: bytes, topics: list[bytes], data: bytes) -> AnchorLog:
    """A NoticeAnchored or BatchAnchored log, ABI-decoded (ValueError for any other log)."""
    if topics and topics[0] == NOTICE_TOPIC and len(topics) == 4:
        at = _abi_word(data, 64)  # the NoticeInput tuple
        # fmt: off
        log = AnchorLog(
            kind="notice", address=address, agency=_abi_word(data, 0), signer=checksum_address(data[44:64]),
            seal=_abi_bytes(data, _abi_word(data, 96)), key=topics[1],
            ocid=_abi_bytes(data, at + _abi_word(data, at)).decode(),
            release_id=_abi_bytes(data, at + _abi_word(data, at + 32)).decode(),
            stage=_abi_word(data, at + 64), digest=_abi_word(data, at + 96).to_bytes(32, "big"),
            previous=_abi_word(data, at + 128).to_bytes(32, "big"), deadline=_abi_word(data, at + 160),
        )
        # fmt: on
        if topics[2:] != [keccak256(log.ocid.encode()), log.digest]:
            raise ValueError("its indexed process hash or digest disagrees with its data")
        return log
    if topics and topics[0] == BATCH_TOPIC and len(topics) == 3:
        # fmt: off
        return AnchorLog(
            kind="batch", address=address, agency=int.from_bytes(topics[2], "big"),
            signer=checksum_address(data[12:32]), seal=_abi_bytes(data, _abi_word(data, 96)), root=topics[1],
            size=_abi_word(data, 32), label=_abi_bytes(data, _abi_word(data, 64)).decode(),
        )
        # fmt: on
    raise ValueError("the log is neither NoticeAnchored nor BatchAnchored")


# ---------------------------------------------------------------- reading a package


def unhex(text: object, part: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise Finding(part, f"{str(text)[:40]!r} is not 0x-prefixed hex")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise Finding(part, f"{text[:40]!r} is not hex") from None


def _safe_name(name: str) -> str:
    if any(c in name for c in "\\:\x00") or any(p in ("", ".", "..") for p in name.split("/")):
        raise BadPackage(f"member {name[:80]!r} names a path outside the package")
    return name


def read_package(path: str) -> dict[str, bytes]:
    """Every member of a package (zip or folder), by name, read into memory within fixed limits.

    Nothing is written anywhere: a member that climbs out of the package (``../``), a
    link, a member declared larger than MAX_MEMBER_BYTES or a package larger than
    MAX_PACKAGE_BYTES is refused before a byte of it is read.
    """
    members: dict[str, bytes] = {}
    if os.path.isdir(path):
        for folder, _dirs, files in os.walk(path):
            for file in files:
                full = os.path.join(folder, file)
                name, found = _safe_name(os.path.relpath(full, path).replace(os.sep, "/")), os.lstat(full)
                if not stat.S_ISREG(found.st_mode):
                    raise BadPackage(f"member {name!r} is a link or special file")
                _admit(members, name, found.st_size)
                with open(full, "rb") as handle:
                    members[name] = handle.read(found.st_size)
        return members
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = _safe_name(info.filename.rstrip("/"))
                if not info.is_dir():
                    _admit(members, name, info.file_size)
                    with archive.open(info) as handle:
                        members[name] = handle.read(info.file_size + 1)
                    if len(members[name]) != info.file_size:
                        raise BadPackage(f"member {name!r} is not the size its header declares")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise BadPackage(f"not a readable zip: {exc}") from None
    return members


def _admit(members: dict[str, bytes], name: str, size: int) -> None:
    if name in members:
        raise BadPackage(f"member {name!r} appears twice")
    if len(members) >= MAX_MEMBERS:
        raise BadPackage(f"more than {MAX_MEMBERS} members")
    if size > MAX_MEMBER_BYTES or sum(map(len, members.values())) + size > MAX_PACKAGE_BYTES:
        raise BadPackage(f"member {name!r} declares {size} bytes: more than a package may hold")


def load_proof(members: dict[str, bytes]) -> dict[str, object]:
    """proof.json, after checking the members are exactly those it lists (and hash as listed)."""
    if PROOF_FILE not in members:
        raise BadPackage(f"no {PROOF_FILE}: not an evidence package")
    try:
        proof = json.loads(members[PROOF_FILE].decode("utf-8"))
    except ValueError as exc:
        raise BadPackage(f"{PROOF_FILE} is not JSON: {exc}") from None
    if not isinstance(proof, dict) or proof.get("format") != FORMAT:
        raise BadPackage(f"{PROOF_FILE} is not in the format {FORMAT}")
    listed = proof.get("files")
    if not isinstance(listed, dict):
        raise BadPackage(f"{PROOF_FILE} lists no files")
    missing, extra = sorted(set(listed) - set(members)), sorted(set(members) - set(listed) - {PROOF_FILE})
    if missing or extra:
        raise BadPackage(f"members missing: {missing or 'none'}; members not listed: {extra or 'none'}")
    return proof


# ---------------------------------------------------------------- the checks


@dataclass(frozen=True)
class Header:
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    number: int
    timestamp: int


def _text(value: object, part: str) -> str:
    if not isinstance(value, str):
        raise Finding(part, f"{str(value)[:40]!r} is not text")
    return value


def _dict(value: object, part: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise Finding(part, "missing or not an object")
    return value


def _header(block: dict[str, object], block_hash: bytes) -> Header:
    """Step 2, first half: the header's RLP hashes to the block hash; its roots, number and time."""
    raw = unhex(block.get("header"), "header")
    if keccak256(raw) != block_hash:
        raise Finding("header", "its RLP does not hash to the block hash")
    try:
        values = [_as_bytes(f, "a header field") for f in _as_list(rlp_decode(raw), "the header")[:12]]
        number, timestamp = int.from_bytes(values[8], "big"), int.from_bytes(values[11], "big")
    except (ValueError, IndexError) as exc:
        raise Finding("header", str(exc)) from None
    if number != block.get("number"):
        raise Finding("header", f"it is block {number}, not {block.get('number')}")
    return Header(values[3], values[4], values[5], number, timestamp)


def _transaction(item: dict[str, object], header: Header) -> tuple[bytes, AnchorLog, int]:
    """Step 2: transaction and receipt are in the block, the log in the receipt; the tx hash, log,
    and the log's index in the block (the receipts before it, proven from the same root, give it)."""
    tx = _dict(item.get("transaction"), "transaction proof")
    index = tx.get("index")
    if not isinstance(index, int) or index < 0:
        raise Finding("transaction proof", "no transaction index")
    transactions = NodeSet(tx.get("transaction_proof"), "transaction proof")
    raw_tx = transactions.get(header.transactions_root, rlp_encode_int(index))
    transactions.all_used()
    if raw_tx is None:
        raise Finding("transaction proof", f"the block has no transaction {index}")
    receipts = NodeSet(tx.get("receipts_proof"), "receipts proof")
    logs_before, body, logs = 0, [], []  # type: int, list[object], list[object]
    for earlier in range(index + 1):
        value = receipts.get(header.receipts_root, rlp_encode_int(earlier))
        if value is None:
            raise Finding("receipts proof", f"the block has no receipt {earlier}")
        logs_before += len(logs)
        try:  # a typed receipt starts with its type byte
            body = _as_list(rlp_decode(value[1:] if value[0] < 0x80 else value), "a receipt", 4)
            logs = _as_list(body[3], "the receipt's logs")
        except ValueError as exc:
            raise Finding("receipts proof", str(exc)) from None
    receipts.all_used()
    if body[0] != b"\x01":
        raise Finding("receipts proof", "the transaction failed (receipt status 0)")
    position = tx.get("log_position")
    if not isinstance(position, int) or not 0 <= position < len(logs):
        raise Finding("log", "the receipt holds no log at the position given")
    try:
        address, topics, data = _as_list(logs[position], "a log", 3)
        topic_list = [_as_bytes(t, "a topic") for t in _as_list(topics, "topics")]
        log = decode_log(_as_bytes(address, "an address"), topic_list, _as_bytes(data, "log data"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Finding("log", str(exc)) from None
    return keccak256(raw_tx), log, logs_before + position


def _seal(item: dict[str, object], log: AnchorLog, chain_id: int) -> None:
    """Step 3: the seal recovers to the signer the log names, under this chain's and contract's domain."""
    seal = _dict(item.get("seal"), "seal")
    signature = unhex(seal.get("signature"), "seal")
    try:
        signer = recover_signer(typed_data_hash(chain_id, log.address, seal_struct_hash(log)), signature)
    except ValueError as exc:
        raise Finding("seal", str(exc)) from None
    if signer != log.signer:
        raise Finding("seal", f"it recovers to {signer}, not to the signer the log names, {log.signer}")
    if signature != log.seal or seal.get("signer") != signer:
        raise Finding("seal", "it is not the seal the log holds")


def _key_state(
    item: dict[str, object], log: AnchorLog, header: Header, chain: dict[str, object]
) -> tuple[bytes, list[str]]:
    """Step 4: at the end of the block, the signer is a seal key of the log's agency, added at or
    before the block and not revoked before it. Returns the agency name's hash, and notes."""
    nodes = NodeSet(_dict(item.get("state"), "state proof").get("nodes"), "state proof")
    account = nodes.get(header.state_root, keccak256(unhex(chain.get("ledger"), "chain")))
    try:
        fields = [
            _as_bytes(f, "an account field") for f in _as_list(rlp_decode(account or b""), "an account", 4)
        ]
    except ValueError as exc:
        raise Finding("state proof", f"no ledger account at this block: {exc}") from None
    if fields[3] != unhex(chain.get("code_hash"), "chain"):
        raise Finding("state proof", f"the ledger's code hash is 0x{fields[3].hex()}, not the package's")

    def slot(preimage: bytes) -> int:  # a mapping's entry lives at keccak256(key || slot of the mapping)
        value = nodes.get(fields[2], keccak256(keccak256(preimage)))
        try:
            return int.from_bytes(_as_bytes(rlp_decode(value), "a storage value"), "big") if value else 0
        except ValueError as exc:
            raise Finding("state proof", str(exc)) from None

    key_info = slot(bytes(12) + bytes.fromhex(log.signer[2:]) + _word(SLOT_KEYS))
    name_hash = slot(_word(log.agency) + _word(SLOT_AGENCY_NAMES)).to_bytes(32, "big")
    nodes.all_used()
    agency, added, revoked = key_info & 0xFFFFFFFF, (key_info >> 32) & (2**40 - 1), key_info >> 72
    if agency != log.agency or not 0 < added <= header.number:
        raise Finding(
            "seal key", f"{log.signer} is not a seal key of agency {log.agency} at block {header.number}"
        )
    if revoked and revoked < header.number:
        raise Finding(
            "seal key", f"{log.signer} was revoked in block {revoked}, before block {header.number}"
        )
    notes = []
    if revoked == header.number:
        notes.append(
            "the seal key was revoked in this same block: its storage cannot say whether before or after "
            "the anchor; the contract refused revoked keys when it ran, so the log shows it came first"
        )
    return name_hash, notes


def _notice_bytes(item: dict[str, object], members: dict[str, bytes]) -> tuple[dict[str, object], bytes]:
    """Step 1: the notice's bytes hash to the digest the package names; a release's ocid and id."""
    notice = _dict(item.get("notice"), "notice")
    data = members.get(_text(notice.get("file"), "notice"))
    if data is None:
        raise Finding("notice", "the package does not hold the notice's bytes")
    digest = hashlib.sha256(data).digest()
    if digest != unhex(notice.get("digest"), "notice"):
        raise Finding("notice", "its bytes do not hash to the digest (SHA-256)")
    if notice.get("digest_scheme") == "sha256-jcs/1":
        try:
            release = json.loads(data.decode("utf-8"))
        except ValueError:
            raise Finding("notice", "a release that is not JSON") from None
        named = [notice.get("ocid"), notice.get("release_id")]
        if not isinstance(release, dict) or [release.get("ocid"), release.get("id")] != named:
            raise Finding("notice", "the release's ocid and id are not those the package names")
    elif notice.get("digest_scheme") != "sha256-raw/1":
        raise Finding("notice", f"unknown digest scheme {notice.get('digest_scheme')!r}")
    return notice, digest


def _load_receipt(item: dict[str, object], members: dict[str, bytes]) -> dict[str, object]:
    raw = members.get(_text(item.get("receipt"), "receipt"))
    if raw is None:
        raise Finding("receipt", "the package does not hold it")
    try:
        receipt = _dict(json.loads(raw.decode("utf-8")), "receipt")
    except ValueError:
        raise Finding("receipt", "not JSON") from None
    if (json.dumps(receipt, indent=2, sort_keys=True) + "\n").encode() != raw:
        raise Finding("receipt", "not in the layout it was written in (bytes were changed)")
    return receipt


_UNCHECKED = object()  # a batch member's stage, previous and deadline: read off chain from the release


def _same(path: str, found: object, expected: object) -> None:
    """The receipt says exactly what was proven, field by field."""
    if isinstance(expected, dict):
        if not isinstance(found, dict) or set(found) != set(expected):
            raise Finding("receipt", f"{path or 'the receipt'} does not have the fields of a receipt")
        for key in sorted(expected):
            _same(f"{path}.{key}".lstrip("."), found[key], expected[key])
    elif expected is not _UNCHECKED and (found != expected or type(found) is not type(expected)):
        raise Finding("receipt", f"{path} is {str(found)[:70]!r}, but the chain says {str(expected)[:70]!r}")


def check_item(item: dict[str, object], members: dict[str, bytes], proof: dict[str, object]) -> list[str]:
    """Steps 1 to 5 for one notice, then its receipt; notes an auditor should read. Raises Finding."""
    chain = _dict(proof.get("chain"), "chain")
    chain_id, ledger = chain.get("chain_id"), _text(chain.get("ledger"), "chain")
    notice, digest = _notice_bytes(item, members)  # 1
    ocid, release_id = _text(notice.get("ocid"), "notice"), _text(notice.get("release_id"), "notice")
    block_hash = unhex(item.get("block_hash"), "header")
    block = _dict(proof.get("blocks"), "header").get("0x" + block_hash.hex())
    if not isinstance(block, dict) or not isinstance(chain_id, int):
        raise Finding("header", "the package holds no header for the block")
    header = _header(block, block_hash)  # 2
    tx_hash, log, log_index = _transaction(item, header)
    if log.address != unhex(ledger, "chain"):
        raise Finding("log", "it was not emitted by the ledger contract")
    batch = item.get("batch")
    if log.kind == "notice":
        if log.digest != digest:
            raise Finding("log", "it anchors another digest")
        if (log.ocid, log.release_id) != (ocid, release_id) or log.key != notice_key(ocid, release_id):
            raise Finding("log", "it anchors another notice key")
        if not 1 <= log.stage <= len(STAGES):
            raise Finding("log", f"unknown stage {log.stage}")
        if (log.stage == DOCUMENT_STAGE) != (notice.get("digest_scheme") == "sha256-raw/1"):
            raise Finding("notice", "its digest scheme does not fit its stage")
    elif not isinstance(batch, dict):
        raise Finding("log", "a batch root, but the package gives no inclusion proof")
    _seal(item, log, chain_id)  # 3
    name_hash, notes = _key_state(item, log, header, chain)  # 4
    if isinstance(batch, dict):  # 5
        path = _dict(batch.get("proof"), "batch proof")
        nodes = [unhex("0x" + _text(p, "batch proof"), "batch proof") for p in path.get("path") or []]  # type: ignore[attr-defined]
        index, size = batch.get("index"), batch.get("size")
        if log.root != unhex(batch.get("root"), "batch proof") or size != log.size:
            raise Finding("batch proof", "the batch is not the one the log anchors")
        if not isinstance(index, int) or [path.get("leaf_index"), path.get("tree_size")] != [index, size]:
            raise Finding("batch proof", "the inclusion proof is for another leaf or tree size")
        if inclusion_root(member_leaf(ocid, release_id, digest), index, log.size, nodes) != log.root:
            raise Finding("batch proof", "the inclusion proof does not lead to the anchored root")
        notes.append("a batch member: its stage, previous and deadline are read from the release, not sealed")
    receipt = _load_receipt(item, members)
    name = _dict(receipt.get("seal"), "receipt").get("agency_name")
    if name is not None and keccak256(_text(name, "receipt").encode()) != name_hash:
        raise Finding("receipt", "seal.agency_name is not the name registered on chain for the agency")
    single = log.kind == "notice"
    _same("", receipt, {
        "format": RECEIPT_FORMAT,
        "chain": {"chain_id": chain_id, "ledger": checksum_address(log.address)},
        "notice": {"ocid": ocid, "release_id": release_id, "key": "0x" + notice_key(ocid, release_id).hex(),
                   "stage": STAGES[log.stage - 1] if single else _UNCHECKED,
                   "stage_code": log.stage if single else _UNCHECKED,
                   "digest": "0x" + digest.hex(), "digest_scheme": notice.get("digest_scheme"),
                   "previous": "0x" + log.previous.hex() if single else _UNCHECKED,
                   "deadline": log.deadline if single else _UNCHECKED},
        "seal": {"format": SEAL_FORMAT, "signature": "0x" + log.seal.hex(), "signer": log.signer,
                 "agency": log.agency, "agency_name": name, "covers": log.kind},
        "anchor": {"tx_hash": "0x" + tx_hash.hex(), "block_number": header.number, "log_index": log_index,
                   "block_hash": "0x" + block_hash.hex(), "block_timestamp": header.timestamp},
        "batch": None if single else {"root": "0x" + log.root.hex(), "size": log.size, "label": log.label,
                                      "index": index, "proof": path},
    })  # fmt: skip
    return notes


def check_package(path: str) -> tuple[list[tuple[str, str | None, list[str]]], list[str]]:
    """(label, finding or None, notes) per notice and damaged member, and the trust lines; or BadPackage."""
    members = read_package(path)
    proof = load_proof(members)
    items, chain = proof.get("items"), proof.get("chain")
    if not isinstance(items, list) or not items or not isinstance(chain, dict):
        raise BadPackage(f"{PROOF_FILE} lists no notice")
    results: list[tuple[str, str | None, list[str]]] = []
    trusted: dict[str, object] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("notice"), dict):
            raise BadPackage(f"{PROOF_FILE} holds a malformed item")
        label = f"{item['notice'].get('ocid')} / {item['notice'].get('release_id')}"
        try:
            notes = check_item(item, members, proof)
        except Finding as finding:
            results.append((label, str(finding), []))
            continue
        results.append((label, None, notes))
        trusted[item["block_hash"]] = proof["blocks"][item["block_hash"]]["number"]  # type: ignore[index]
    for name, listed in sorted(proof["files"].items()):  # type: ignore[attr-defined]
        if "0x" + hashlib.sha256(members[name]).hexdigest() != listed:
            results.append((name, f"file: its bytes are not those {PROOF_FILE} lists", []))
    # What the proofs start from comes last: for the reader to compare with the chain.
    lines = [f"ledger {chain.get('ledger')}, code hash {chain.get('code_hash')} (proven from the state root)"]
    for block_hash, number in sorted(trusted.items(), key=lambda kv: str(kv[1]).zfill(20)):
        lines.append(f"trusted: block {number} of chain {chain.get('chain_id')} has hash {block_hash}")
    return results, lines if trusted else []


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: python3 -I verify_evidence.py PACKAGE   (a .zip, or the folder it was unpacked to)")
        return 2
    try:
        results, trust = check_package(argv[1])
    except BadPackage as exc:
        print(f"error: {argv[1]}: {exc}", file=sys.stderr)
        return 2
    for label, finding, notes in results:
        print(f"FAILED   {label}: {finding}" if finding else f"proven   {label}")
        for note in notes:
            print(f"         note: {note}")
    for line in trust:
        print(line)
    return 1 if any(finding for _, finding, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
