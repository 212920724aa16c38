"""ABI encoding and decoding of the ledger's hot calls, written out for speed.

The layouts are fixed by the contract's ABI; tests check every function here
byte for byte against eth_abi, the reference encoder, on random inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.core.hashing import keccak256
from backend.core.records import LedgerBatch, LedgerRecord, ProcessState, SealKeyWindow
from backend.core.seal import SealedFields, to_checksum_address
from backend.core.stages import Stage
from backend.core.work import BatchWork, NoticeWork, Work

NOTICE_TUPLE = "(string,string,uint8,bytes32,bytes32,uint64)"
SELECTOR_ANCHOR_NOTICE = keccak256(f"anchorNotice({NOTICE_TUPLE},bytes)".encode())[:4]
SELECTOR_ANCHOR_NOTICES = keccak256(f"anchorNotices({NOTICE_TUPLE}[],bytes[])".encode())[:4]
SELECTOR_ANCHOR_BATCH = keccak256(b"anchorBatch((bytes32,uint32,string),bytes)")[:4]
SELECTOR_RECORDS_BY_KEY = keccak256(b"recordsByKey(bytes32[])")[:4]
SELECTOR_RECORDS_BY_DIGEST = keccak256(b"recordsByDigest(bytes32[])")[:4]
SELECTOR_BATCH_RECORD = keccak256(b"batchRecord(bytes32)")[:4]
SELECTOR_PROCESS_OF = keccak256(b"processOf(bytes32)")[:4]
SELECTOR_PREFIX_OWNER = keccak256(b"prefixOwner(bytes32)")[:4]
SELECTOR_SEAL_KEY = keccak256(b"sealKey(address)")[:4]
WORD = 32
RECORD_WORDS = 6


def _word(value: int) -> bytes:
    return value.to_bytes(WORD, "big")


def _dynamic_bytes(data: bytes) -> bytes:
    """Length word, then the bytes right-padded to whole words."""
    padding = -len(data) % WORD
    return _word(len(data)) + data + bytes(padding)


def _notice_tuple(fields: SealedFields) -> bytes:
    ocid = _dynamic_bytes(fields.ocid.encode())
    release_id = _dynamic_bytes(fields.release_id.encode())
    head_size = 6 * WORD
    return b"".join(
        (
            _word(head_size),
            _word(head_size + len(ocid)),
            _word(fields.stage),
            fields.digest,
            fields.previous,
            _word(fields.deadline),
            ocid,
            release_id,
        )
    )


def _dynamic_array(elements: Sequence[bytes]) -> bytes:
    """An array of dynamic elements: length, offsets (from after the length), then the elements."""
    offsets = []
    position = len(elements) * WORD
    for element in elements:
        offsets.append(_word(position))
        position += len(element)
    return _word(len(elements)) + b"".join(offsets) + b"".join(elements)


def anchor_notice_data(fields: SealedFields, seal: bytes) -> bytes:
    """Calldata of ``anchorNotice(notice, seal)``."""
    notice = _notice_tuple(fields)
    return (
        SELECTOR_ANCHOR_NOTICE
        + _word(2 * WORD)
        + _word(2 * WORD + len(notice))
        + notice
        + _dynamic_bytes(seal)
    )


def anchor_notices_data(items: Sequence[tuple[SealedFields, bytes]]) -> bytes:
    """Calldata of ``anchorNotices(notices, seals)``."""
    notices = _dynamic_array([_notice_tuple(fields) for fields, _ in items])
    seals = _dynamic_array([_dynamic_bytes(seal) for _, seal in items])
    return SELECTOR_ANCHOR_NOTICES + _word(2 * WORD) + _word(2 * WORD + len(notices)) + notices + seals


def anchor_batch_data(root: bytes, size: int, label: str, seal: bytes) -> bytes:
    """Calldata of ``anchorBatch((root, size, label), seal)``."""
    batch = root + _word(size) + _word(3 * WORD) + _dynamic_bytes(label.encode())
    return (
        SELECTOR_ANCHOR_BATCH + _word(2 * WORD) + _word(2 * WORD + len(batch)) + batch + _dynamic_bytes(seal)
    )


def bytes32_array_call(selector: bytes, values: Sequence[bytes]) -> bytes:
    """Calldata of a function taking one ``bytes32[]``."""
    return selector + _word(WORD) + _word(len(values)) + b"".join(values)


def bytes32_call(selector: bytes, value: bytes) -> bytes:
    """Calldata of a function taking one ``bytes32``."""
    if len(value) != WORD:
        raise ValueError("a bytes32 argument is 32 bytes")
    return selector + value


def address_call(selector: bytes, address: str) -> bytes:
    """Calldata of a function taking one ``address`` (0x hex, any case)."""
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"not an address: {address!r}")
    return selector + bytes(12) + raw


def _words(data: bytes, count: int) -> list[int]:
    """The first ``count`` words of a static return value, as unsigned integers."""
    if len(data) < count * WORD:
        raise ValueError(f"expected {count} words of return data, got {len(data)} bytes")
    return [int.from_bytes(data[i * WORD : (i + 1) * WORD], "big") for i in range(count)]


def decode_uint(data: bytes) -> int:
    """A single unsigned integer return value (``prefixOwner``)."""
    (value,) = _words(data, 1)
    return value


def decode_batch_record(root: bytes, data: bytes) -> LedgerBatch | None:
    """The ``BatchRecord`` a ``batchRecord(root)`` call returns (None when the root is not on the ledger)."""
    signer, agency, block_number, timestamp = _words(data, 4)
    if signer == 0:
        return None
    return LedgerBatch(
        root=root,
        signer=to_checksum_address(signer.to_bytes(20, "big")),
        agency=agency,
        block_number=block_number,
        timestamp=timestamp,
    )


def decode_process(data: bytes) -> ProcessState:
    """The ``ProcessState`` a ``processOf`` call returns."""
    agency, deadline, has_tender, cancelled, notices, first_award_at = _words(data, 6)
    return ProcessState(
        agency=agency,
        deadline=deadline,
        has_tender=bool(has_tender),
        cancelled=bool(cancelled),
        notices=notices,
        first_award_at=first_award_at,
    )


def decode_seal_key(data: bytes) -> SealKeyWindow:
    """The (agency, added block, revoked block) a ``sealKey`` call returns."""
    agency, added, revoked = _words(data, 3)
    return SealKeyWindow(agency=agency, added_block=added, revoked_block=revoked)


def decode_records(data: bytes) -> list[LedgerRecord | None]:
    """The ``NoticeRecord[]`` a ``recordsByKey``/``recordsByDigest`` call returns (None where empty)."""
    count = int.from_bytes(data[WORD : 2 * WORD], "big")
    records: list[LedgerRecord | None] = []
    base = 2 * WORD
    for i in range(count):
        start = base + i * RECORD_WORDS * WORD
        word = data[start : start + RECORD_WORDS * WORD]
        signer = word[WORD + 12 : 2 * WORD]
        if signer == bytes(20):
            records.append(None)
            continue
        records.append(
            LedgerRecord(
                digest=word[:WORD],
                signer=to_checksum_address(signer),
                agency=int.from_bytes(word[2 * WORD : 3 * WORD], "big"),
                block_number=int.from_bytes(word[3 * WORD : 4 * WORD], "big"),
                timestamp=int.from_bytes(word[4 * WORD : 5 * WORD], "big"),
                stage=Stage(int.from_bytes(word[5 * WORD : 6 * WORD], "big")),
            )
        )
    return records


def anchor_call(group: Sequence[Work]) -> bytes:
    """Calldata that anchors ``group``: one batch root, one notice, or several notices at once."""
    first = group[0]
    if isinstance(first, BatchWork):
        if len(group) != 1:
            raise ValueError("a batch root travels alone")
        return anchor_batch_data(first.root, first.size, first.label, first.seal)
    notices = [work for work in group if isinstance(work, NoticeWork)]
    if len(notices) != len(group):
        raise ValueError("notices and batch roots travel in separate transactions")
    if len(notices) == 1:
        return anchor_notice_data(notices[0].fields, notices[0].seal)
    return anchor_notices_data([(work.fields, work.seal) for work in notices])
