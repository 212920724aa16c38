"""Electronic seals: EIP-712 typed-data hashes, signatures and recovery.

A seal is an agency key's EIP-712 signature over (ocid, release id, stage, digest,
previous, deadline). The domain names the chain id and the ledger contract, so a
seal cannot be replayed on another chain or contract. These functions compute
exactly what ``NoticeLedger.noticeTypedDataHash`` computes on chain; the ledger
tests check both against each other and against eth-account.

Signing uses libsecp256k1 (coincurve), which always produces low-s signatures:
the contract refuses high-s (malleable) ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import coincurve

from backend.core.hashing import keccak256

if TYPE_CHECKING:
    from backend.core.notice import Notice

SEAL_FORMAT = "eip712-secp256k1/1"
DOMAIN_NAME = "tenderledger"
DOMAIN_VERSION = "1"

EIP712_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
NOTICE_TYPE = (
    "Notice(string ocid,string releaseId,uint8 stage,bytes32 digest,bytes32 previous,uint64 deadline)"
)
BATCH_TYPE = "Batch(bytes32 root,uint32 size,string label)"

EIP712_DOMAIN_TYPEHASH = keccak256(EIP712_DOMAIN_TYPE.encode())
NOTICE_TYPEHASH = keccak256(NOTICE_TYPE.encode())
BATCH_TYPEHASH = keccak256(BATCH_TYPE.encode())

SEAL_LENGTH = 65
ZERO32 = bytes(32)
# Order of the secp256k1 group; s must be at most half of it (EIP-2).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
UINT64_MAX = 2**64 - 1
UINT32_MAX = 2**32 - 1


class SealError(ValueError):
    """A seal that is malformed, malleable or does not recover."""


@dataclass(frozen=True, slots=True)
class SealedFields:
    """The fields a notice seal covers, in ledger form."""

    ocid: str
    release_id: str
    stage: int
    digest: bytes
    previous: bytes
    deadline: int

    def __post_init__(self) -> None:
        if len(self.digest) != 32 or len(self.previous) != 32:
            raise ValueError("digest and previous must be 32 bytes")
        if not 0 <= self.deadline <= UINT64_MAX:
            raise ValueError(f"deadline {self.deadline} does not fit uint64")
        if not 0 <= self.stage <= 255:
            raise ValueError(f"stage {self.stage} does not fit uint8")

    def as_tuple(self) -> tuple[str, str, int, bytes, bytes, int]:
        """The ``NoticeInput`` tuple the contract takes."""
        return (self.ocid, self.release_id, self.stage, self.digest, self.previous, self.deadline)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"not an address: {address!r}")
    return bytes(12) + raw


def ocid_hash(ocid: str) -> bytes:
    """keccak256 of the ocid: how the ledger names a process."""
    return keccak256(ocid.encode())


def notice_key(ocid: str, release_id: str) -> bytes:
    """The ledger's key of an (ocid, release id): keccak256(abi.encode(keccak(ocid), keccak(id)))."""
    return keccak256(keccak256(ocid.encode()) + keccak256(release_id.encode()))


def previous_link(release_id: str | None) -> bytes:
    """The sealed ``previous`` of a notice amending ``release_id`` of its own process.

    keccak256 of the amended release id (zero when it names none): the ledger pairs it
    with the notice's own ocid, so a notice can only name a release of its own process,
    and refuses it unless that release is already anchored.
    """
    return keccak256(release_id.encode()) if release_id else ZERO32


def sealed_fields(notice: Notice) -> SealedFields:
    """What the agency seals for a notice (a deadline beyond uint64 is sealed as none)."""
    previous = previous_link(notice.amends_release_id)
    deadline = notice.deadline if notice.deadline is not None and 0 < notice.deadline <= UINT64_MAX else 0
    return SealedFields(notice.ocid, notice.release_id, int(notice.stage), notice.digest, previous, deadline)


def domain_separator(chain_id: int, contract: str) -> bytes:
    """EIP-712 domain separator of the ledger at ``contract`` on ``chain_id``."""
    return keccak256(
        EIP712_DOMAIN_TYPEHASH
        + keccak256(DOMAIN_NAME.encode())
        + keccak256(DOMAIN_VERSION.encode())
        + _word(chain_id)
        + _address_word(contract)
    )


def notice_struct_hash(fields: SealedFields) -> bytes:
    """EIP-712 ``hashStruct`` of a Notice."""
    return keccak256(
        NOTICE_TYPEHASH
        + keccak256(fields.ocid.encode())
        + keccak256(fields.release_id.encode())
        + _word(fields.stage)
        + fields.digest
        + fields.previous
        + _word(fields.deadline)
    )


def batch_struct_hash(root: bytes, size: int, label: str) -> bytes:
    """EIP-712 ``hashStruct`` of a Batch."""
    if len(root) != 32:
        raise ValueError("root must be 32 bytes")
    if not 0 <= size <= UINT32_MAX:
        raise ValueError(f"batch size {size} does not fit uint32")
    return keccak256(BATCH_TYPEHASH + root + _word(size) + keccak256(label.encode()))


def typed_data_hash(separator: bytes, struct_hash: bytes) -> bytes:
    """The EIP-712 hash that is signed: keccak256(0x1901 || domainSeparator || hashStruct)."""
    return keccak256(b"\x19\x01" + separator + struct_hash)


def sign_hash(private_key: bytes, message_hash: bytes) -> bytes:
    """A 65-byte (r, s, v) signature, v in {27, 28}, always low-s."""
    signature = coincurve.PrivateKey(private_key).sign_recoverable(message_hash, hasher=None)
    return signature[:64] + bytes([signature[64] + 27])


def recover_signer(message_hash: bytes, seal: bytes) -> str:
    """The checksummed address that made ``seal`` over ``message_hash``.

    Raises SealError for anything the contract would also refuse: wrong length,
    v not 27/28, zero r or s, high s.
    """
    if len(seal) != SEAL_LENGTH:
        raise SealError(f"a seal is {SEAL_LENGTH} bytes, got {len(seal)}")
    r = int.from_bytes(seal[:32], "big")
    s = int.from_bytes(seal[32:64], "big")
    v = seal[64]
    if v not in (27, 28):
        raise SealError(f"seal v must be 27 or 28, got {v}")
    if not 0 < r < SECP256K1_N or not 0 < s <= SECP256K1_N // 2:
        raise SealError("seal is malleable or out of range (high s, or zero r/s)")
    try:
        public = coincurve.PublicKey.from_signature_and_message(
            seal[:64] + bytes([v - 27]), message_hash, hasher=None
        )
    except Exception as exc:  # coincurve raises plain Exception on unrecoverable input
        raise SealError("seal does not recover to any key") from exc
    return address_of_public_key(public.format(compressed=False))


def address_of_public_key(uncompressed: bytes) -> str:
    """EIP-55 address of a 65-byte uncompressed secp256k1 public key."""
    return to_checksum_address(keccak256(uncompressed[1:])[12:])


def address_of_private_key(private_key: bytes) -> str:
    """EIP-55 address of a 32-byte private key."""
    return address_of_public_key(coincurve.PrivateKey(private_key).public_key.format(compressed=False))


@lru_cache(maxsize=4096)
def to_checksum_address(address: bytes | str) -> str:
    """EIP-55 mixed-case checksum encoding (cached: the same few keys recur in every record)."""
    raw = address if isinstance(address, bytes) else bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"an address is 20 bytes, got {len(raw)}")
    hex_address = raw.hex()
    hashed = keccak256(hex_address.encode()).hex()
    return "0x" + "".join(c.upper() if int(hashed[i], 16) >= 8 else c for i, c in enumerate(hex_address))


class Sealer:
    """One agency key sealing many notices for one ledger: key and domain prepared once."""

    __slots__ = ("_key", "_separator", "address")

    def __init__(self, private_key: bytes, *, chain_id: int, contract: str) -> None:
        self._key = coincurve.PrivateKey(private_key)
        self._separator = domain_separator(chain_id, contract)
        self.address = address_of_public_key(self._key.public_key.format(compressed=False))

    def _sign(self, struct_hash: bytes) -> bytes:
        signature = self._key.sign_recoverable(typed_data_hash(self._separator, struct_hash), hasher=None)
        return signature[:64] + bytes([signature[64] + 27])

    def seal(self, fields: SealedFields) -> bytes:
        """The seal of a notice (same bytes as :func:`seal_notice`)."""
        return self._sign(notice_struct_hash(fields))

    def seal_batch(self, root: bytes, size: int, label: str) -> bytes:
        """The seal of a Merkle batch root (same bytes as :func:`seal_batch`)."""
        return self._sign(batch_struct_hash(root, size, label))


def seal_notice(private_key: bytes, fields: SealedFields, *, chain_id: int, contract: str) -> bytes:
    """Seal ``fields`` for the ledger at ``contract`` on ``chain_id``."""
    return sign_hash(
        private_key, typed_data_hash(domain_separator(chain_id, contract), notice_struct_hash(fields))
    )


def notice_signer(fields: SealedFields, seal: bytes, *, chain_id: int, contract: str) -> str:
    """The address that sealed ``fields`` for this chain and contract."""
    return recover_signer(
        typed_data_hash(domain_separator(chain_id, contract), notice_struct_hash(fields)), seal
    )


def seal_batch(
    private_key: bytes, root: bytes, size: int, label: str, *, chain_id: int, contract: str
) -> bytes:
    """Seal a Merkle batch root for the ledger at ``contract`` on ``chain_id``."""
    return sign_hash(
        private_key,
        typed_data_hash(domain_separator(chain_id, contract), batch_struct_hash(root, size, label)),
    )


@lru_cache(maxsize=1024)
def batch_signer(root: bytes, size: int, label: str, seal: bytes, *, chain_id: int, contract: str) -> str:
    """The address that sealed a batch root for this chain and contract."""
    return recover_signer(
        typed_data_hash(domain_separator(chain_id, contract), batch_struct_hash(root, size, label)), seal
    )
