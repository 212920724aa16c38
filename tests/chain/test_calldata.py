"""The hand-written ABI codec agrees byte for byte with eth_abi, the reference encoder."""

from __future__ import annotations

from eth_abi import decode, encode
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.chain import calldata, logs
from backend.chain.artifacts import load_artifact
from backend.core.hashing import keccak256
from backend.core.seal import SealedFields

texts = st.text(min_size=1, max_size=300)
bytes32 = st.binary(min_size=32, max_size=32)
fields = st.builds(
    SealedFields, texts, texts, st.integers(1, 16), bytes32, bytes32, st.integers(0, 2**64 - 1)
)
seals = st.binary(min_size=65, max_size=65)


@settings(max_examples=200)
@given(fields, seals)
def test_anchor_notice(f: SealedFields, seal: bytes) -> None:
    expected = calldata.SELECTOR_ANCHOR_NOTICE + encode(
        [f"{calldata.NOTICE_TUPLE}", "bytes"], [f.as_tuple(), seal]
    )
    assert calldata.anchor_notice_data(f, seal) == expected


@settings(max_examples=100)
@given(st.lists(st.tuples(fields, seals), min_size=1, max_size=12))
def test_anchor_notices(items: list[tuple[SealedFields, bytes]]) -> None:
    expected = calldata.SELECTOR_ANCHOR_NOTICES + encode(
        [f"{calldata.NOTICE_TUPLE}[]", "bytes[]"], [[f.as_tuple() for f, _ in items], [s for _, s in items]]
    )
    assert calldata.anchor_notices_data(items) == expected


@settings(max_examples=100)
@given(bytes32, st.integers(1, 2**32 - 1), texts, seals)
def test_anchor_batch(root: bytes, size: int, label: str, seal: bytes) -> None:
    expected = calldata.SELECTOR_ANCHOR_BATCH + encode(
        ["(bytes32,uint32,string)", "bytes"], [(root, size, label), seal]
    )
    assert calldata.anchor_batch_data(root, size, label, seal) == expected


@settings(max_examples=100)
@given(st.lists(bytes32, max_size=40))
def test_bytes32_array_call_and_records(keys: list[bytes]) -> None:
    assert calldata.bytes32_array_call(calldata.SELECTOR_RECORDS_BY_KEY, keys) == (
        calldata.SELECTOR_RECORDS_BY_KEY + encode(["bytes32[]"], [keys])
    )
    rows = [
        (k, "0x" + (k[:20].hex() if i % 3 else "00" * 20), i, i * 7, 1_700_000_000 + i, 1 + i % 16)
        for i, k in enumerate(keys)
    ]
    data = encode(["(bytes32,address,uint32,uint40,uint48,uint8)[]"], [rows])
    decoded = calldata.decode_records(data)
    (reference,) = decode(["(bytes32,address,uint32,uint40,uint48,uint8)[]"], data)
    for ours, theirs in zip(decoded, reference, strict=True):
        if int(theirs[1], 16) == 0:
            assert ours is None
        else:
            assert ours is not None
            assert (
                ours.digest,
                ours.signer.lower(),
                ours.agency,
                ours.block_number,
                ours.timestamp,
                int(ours.stage),
            ) == (theirs[0], theirs[1].lower(), theirs[2], theirs[3], theirs[4], theirs[5])


addresses = st.binary(min_size=20, max_size=20)


@settings(max_examples=100)
@given(bytes32, addresses)
def test_single_argument_calls(value: bytes, address: bytes) -> None:
    for selector in (
        calldata.SELECTOR_BATCH_RECORD,
        calldata.SELECTOR_PROCESS_OF,
        calldata.SELECTOR_PREFIX_OWNER,
    ):
        assert calldata.bytes32_call(selector, value) == selector + encode(["bytes32"], [value])
    assert calldata.address_call(calldata.SELECTOR_SEAL_KEY, "0x" + address.hex()) == (
        calldata.SELECTOR_SEAL_KEY + encode(["address"], ["0x" + address.hex()])
    )


@settings(max_examples=100)
@given(bytes32, addresses, st.integers(0, 2**32 - 1), st.integers(0, 2**40 - 1), st.integers(0, 2**48 - 1))
def test_batch_record(root: bytes, signer: bytes, agency: int, block: int, timestamp: int) -> None:
    data = encode(["(address,uint32,uint40,uint48)"], [("0x" + signer.hex(), agency, block, timestamp)])
    batch = calldata.decode_batch_record(root, data)
    if signer == bytes(20):
        assert batch is None
    else:
        assert batch is not None
        assert (batch.root, batch.signer.lower(), batch.agency, batch.block_number, batch.timestamp) == (
            root,
            "0x" + signer.hex(),
            agency,
            block,
            timestamp,
        )


@settings(max_examples=100)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**64 - 1),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**48 - 1),
    addresses,
    st.integers(0, 2**40 - 1),
    st.integers(0, 2**40 - 1),
)
def test_process_seal_key_and_prefix_owner(
    agency: int,
    deadline: int,
    has_tender: bool,
    cancelled: bool,
    notices: int,
    first_award_at: int,
    key: bytes,
    added: int,
    revoked: int,
) -> None:
    state = (agency, deadline, has_tender, cancelled, notices, first_award_at)
    process = calldata.decode_process(encode(["(uint32,uint64,bool,bool,uint32,uint48)"], [state]))
    assert (
        process.agency,
        process.deadline,
        process.has_tender,
        process.cancelled,
        process.notices,
        process.first_award_at,
    ) == state
    window = calldata.decode_seal_key(encode(["uint32", "uint40", "uint40"], [agency, added, revoked]))
    assert (window.agency, window.added_block, window.revoked_block) == (agency, added, revoked)
    assert calldata.decode_uint(encode(["uint32"], [agency])) == agency


def test_selectors_and_topics_match_the_artifact() -> None:
    abi = load_artifact().abi

    def signature(item: dict) -> str:  # type: ignore[type-arg]
        def kind(entry: dict) -> str:  # type: ignore[type-arg]
            if entry["type"].startswith("tuple"):
                return "(" + ",".join(kind(c) for c in entry["components"]) + ")" + entry["type"][5:]
            return str(entry["type"])

        return f"{item['name']}({','.join(kind(i) for i in item['inputs'])})"

    by_name = {item["name"]: keccak256(signature(item).encode()) for item in abi if "name" in item}
    assert by_name["anchorNotice"][:4] == calldata.SELECTOR_ANCHOR_NOTICE
    assert by_name["anchorNotices"][:4] == calldata.SELECTOR_ANCHOR_NOTICES
    assert by_name["anchorBatch"][:4] == calldata.SELECTOR_ANCHOR_BATCH
    assert by_name["recordsByKey"][:4] == calldata.SELECTOR_RECORDS_BY_KEY
    assert by_name["recordsByDigest"][:4] == calldata.SELECTOR_RECORDS_BY_DIGEST
    assert by_name["NoticeAnchored"] == logs.TOPIC_NOTICE_ANCHORED
    assert by_name["BatchAnchored"] == logs.TOPIC_BATCH_ANCHORED
    assert by_name["batchRecord"][:4] == calldata.SELECTOR_BATCH_RECORD
    assert by_name["processOf"][:4] == calldata.SELECTOR_PROCESS_OF
    assert by_name["prefixOwner"][:4] == calldata.SELECTOR_PREFIX_OWNER
    assert by_name["sealKey"][:4] == calldata.SELECTOR_SEAL_KEY
    assert by_name["AgencyRegistered"] == logs.TOPIC_AGENCY_REGISTERED
    assert by_name["SealKeyAdded"] == logs.TOPIC_SEAL_KEY_ADDED
    assert by_name["SealKeyRevoked"] == logs.TOPIC_SEAL_KEY_REVOKED
    assert by_name["OcidPrefixReserved"] == logs.TOPIC_OCID_PREFIX_RESERVED


@settings(max_examples=100)
@given(st.integers(0, 2**32 - 1), st.text(max_size=300), bytes32, addresses, st.booleans())
def test_registry_events(agency: int, text: str, prefix_hash: bytes, key: bytes, added: bool) -> None:
    place = {"blockNumber": "0x10", "logIndex": "0x2"}
    agency_topic = "0x" + encode(["uint32"], [agency]).hex()
    registered = {"topics": [logs.TOPIC_AGENCY_REGISTERED, agency_topic], "data": encode(["string"], [text])}
    assert logs.decode_agency_registered({**registered, **place}) == (agency, text)
    reserved = {
        "topics": [logs.TOPIC_OCID_PREFIX_RESERVED, agency_topic, prefix_hash],
        "data": "0x" + encode(["string"], [text]).hex(),
    }
    reservation = logs.decode_prefix_reserved({**reserved, **place})
    assert (reservation.prefix, reservation.agency, reservation.block_number, reservation.log_index) == (
        text,
        agency,
        16,
        2,
    )
    topic = logs.TOPIC_SEAL_KEY_ADDED if added else logs.TOPIC_SEAL_KEY_REVOKED
    event = logs.decode_seal_key_event(
        {"topics": [topic, agency_topic, encode(["address"], ["0x" + key.hex()])], "data": b"", **place}
    )
    assert (event.key.lower(), event.agency, event.added) == ("0x" + key.hex(), agency, added)
