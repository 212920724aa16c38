"""The one decoder of the ledger's events: NoticeAnchored and BatchAnchored, and the registry's
AgencyRegistered, SealKeyAdded, SealKeyRevoked and OcidPrefixReserved.

Every reader of the anchoring events (bulk reads, the relayer settling its transactions,
the ledger's own event queries, the audit) decodes raw logs here, from their topics
and data words, whichever shape the log comes in: JSON-RPC wire form (hex strings)
or web3's (bytes and ints). The layouts are fixed by ``INoticeLedger``'s events.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from backend.core.hashing import keccak256
from backend.core.records import AnchoredEvent
from backend.core.seal import SealedFields, to_checksum_address

NOTICE_TUPLE = "(string,string,uint8,bytes32,bytes32,uint64)"
TOPIC_NOTICE_ANCHORED = keccak256(
    f"NoticeAnchored(bytes32,bytes32,bytes32,uint32,address,{NOTICE_TUPLE},bytes)".encode()
)
TOPIC_BATCH_ANCHORED = keccak256(b"BatchAnchored(bytes32,uint32,address,uint32,string,bytes)")
TOPIC_AGENCY_REGISTERED = keccak256(b"AgencyRegistered(uint32,string)")
TOPIC_SEAL_KEY_ADDED = keccak256(b"SealKeyAdded(uint32,address)")
TOPIC_SEAL_KEY_REVOKED = keccak256(b"SealKeyRevoked(uint32,address)")
TOPIC_OCID_PREFIX_RESERVED = keccak256(b"OcidPrefixReserved(uint32,bytes32,string)")
WORD = 32


@dataclass(frozen=True)
class BatchEvent:
    """One BatchAnchored event, decoded."""

    root: bytes
    agency: int
    signer: str
    size: int
    label: str
    seal: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int


@dataclass(frozen=True)
class SealKeyEvent:
    """One SealKeyAdded or SealKeyRevoked event: with AgencyRegistered, what rebuilds the key registry."""

    key: str
    agency: int
    added: bool  # False: revoked
    block_number: int
    log_index: int


@dataclass(frozen=True)
class PrefixReservation:
    """One OcidPrefixReserved event: governance gave an ocid prefix to an agency."""

    prefix: str
    agency: int
    block_number: int
    log_index: int


def as_bytes(value: Any) -> bytes:
    """A log field as bytes: from 0x hex (wire form) or bytes (web3's form)."""
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)


def as_int(value: Any) -> int:
    """A log quantity as an int: from 0x hex (wire form) or int (web3's form)."""
    return int(value, 16) if isinstance(value, str) else int(value)


def _word_int(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + WORD], "big")


def _dynamic(data: bytes, offset: int) -> bytes:
    length = _word_int(data, offset)
    return data[offset + WORD : offset + WORD + length]


def topic0(log: Mapping[str, Any]) -> bytes | None:
    """The event signature topic of a log (None for an anonymous one)."""
    topics = log["topics"]
    return as_bytes(topics[0]) if topics else None


def decode_notice_anchored(log: Mapping[str, Any]) -> AnchoredEvent:
    """A NoticeAnchored log as an AnchoredEvent."""
    topics = [as_bytes(t) for t in log["topics"]]
    data = as_bytes(log["data"])
    notice = _word_int(data, 2 * WORD)
    fields = SealedFields(
        _dynamic(data, notice + _word_int(data, notice)).decode(),
        _dynamic(data, notice + _word_int(data, notice + WORD)).decode(),
        _word_int(data, notice + 2 * WORD),
        data[notice + 3 * WORD : notice + 4 * WORD],
        data[notice + 4 * WORD : notice + 5 * WORD],
        _word_int(data, notice + 5 * WORD),
    )
    return AnchoredEvent(
        key=topics[1],
        ocid_hash=topics[2],
        digest=topics[3],
        agency=_word_int(data, 0),
        signer=to_checksum_address(data[WORD + 12 : 2 * WORD]),
        fields=fields,
        seal=_dynamic(data, _word_int(data, 3 * WORD)),
        block_number=as_int(log["blockNumber"]),
        block_hash=as_bytes(log["blockHash"]),
        tx_hash=as_bytes(log["transactionHash"]),
        log_index=as_int(log["logIndex"]),
    )


def decode_batch_anchored(log: Mapping[str, Any]) -> BatchEvent:
    """A BatchAnchored log as a BatchEvent."""
    topics = [as_bytes(t) for t in log["topics"]]
    data = as_bytes(log["data"])
    return BatchEvent(
        root=topics[1],
        agency=int.from_bytes(topics[2], "big"),
        signer=to_checksum_address(data[12:WORD]),
        size=_word_int(data, WORD),
        label=_dynamic(data, _word_int(data, 2 * WORD)).decode(),
        seal=_dynamic(data, _word_int(data, 3 * WORD)),
        block_number=as_int(log["blockNumber"]),
        block_hash=as_bytes(log["blockHash"]),
        tx_hash=as_bytes(log["transactionHash"]),
        log_index=as_int(log["logIndex"]),
    )


def decode_agency_registered(log: Mapping[str, Any]) -> tuple[int, str]:
    """An AgencyRegistered log as (agency id, name)."""
    topics = log["topics"]
    data = as_bytes(log["data"])
    return int.from_bytes(as_bytes(topics[1]), "big"), _dynamic(data, _word_int(data, 0)).decode()


def decode_seal_key_event(log: Mapping[str, Any]) -> SealKeyEvent:
    """A SealKeyAdded or SealKeyRevoked log as a SealKeyEvent."""
    topics = [as_bytes(t) for t in log["topics"]]
    return SealKeyEvent(
        key=to_checksum_address(topics[2][12:]),
        agency=int.from_bytes(topics[1], "big"),
        added=topics[0] == TOPIC_SEAL_KEY_ADDED,
        block_number=as_int(log["blockNumber"]),
        log_index=as_int(log["logIndex"]),
    )


def decode_prefix_reserved(log: Mapping[str, Any]) -> PrefixReservation:
    """An OcidPrefixReserved log as a PrefixReservation."""
    data = as_bytes(log["data"])
    return PrefixReservation(
        prefix=_dynamic(data, _word_int(data, 0)).decode(),
        agency=int.from_bytes(as_bytes(log["topics"][1]), "big"),
        block_number=as_int(log["blockNumber"]),
        log_index=as_int(log["logIndex"]),
    )


def logs_of(logs: Any, topic: bytes, contract: str) -> Iterator[Mapping[str, Any]]:
    """The logs of event ``topic`` emitted by ``contract`` among ``logs`` (removed ones left out)."""
    for log in logs:
        if log.get("removed") or topic0(log) != topic:
            continue
        if to_checksum_address(as_bytes(log["address"])) == contract:
            yield log


def notice_events_in(logs: Any, contract: str) -> Iterator[AnchoredEvent]:
    """The NoticeAnchored events of ``contract`` among ``logs`` (of a transaction receipt, or a query)."""
    return (decode_notice_anchored(log) for log in logs_of(logs, TOPIC_NOTICE_ANCHORED, contract))


def batch_events_in(logs: Any, contract: str) -> Iterator[BatchEvent]:
    """The BatchAnchored events of ``contract`` among ``logs``."""
    return (decode_batch_anchored(log) for log in logs_of(logs, TOPIC_BATCH_ANCHORED, contract))
