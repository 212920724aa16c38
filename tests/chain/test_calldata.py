"""The hand-written ABI codec agrees byte for byte with eth_abi, the reference encoder."""

from __future__ import annotations

from eth_abi import decode, encode
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.chain import calldata
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
    assert by_name["NoticeAnchored"] == calldata.TOPIC_NOTICE_ANCHORED
    assert by_name["BatchAnchored"] == calldata.TOPIC_BATCH_ANCHORED
