"""RFC 8785 canonicalization, byte for byte against the RFC and the ``rfc8785`` package.

``rfc8785`` (a dev dependency) is the reference Python implementation. Our bytes must
equal its bytes on the RFC's vectors, on every release of the real corpus and on
arbitrary JSON; where it refuses a value, so must we. The fast path is checked on its
own too: it may decline a value, never return other bytes.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import enum
import json
import math
import struct
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backend.core.canonical import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    _canonicalize_exact,
    _canonicalize_fast,
    canonicalize,
)
from backend.core.jsontext import parse_json
from backend.errors import CanonicalizationError, InputError

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "rfc8785.json").read_text(encoding="ascii"))


def reference(value: Any) -> bytes | None:
    """The rfc8785 package's bytes, or None when it refuses the value."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        # ValueError: it lets UnicodeEncodeError through for lone surrogates in keys.
        return None


def assert_matches_reference(value: Any) -> None:
    """canonicalize, its fast path and its exact path all agree with rfc8785."""
    expected = reference(value)
    fast = _canonicalize_fast(value)
    if expected is None:
        assert fast is None
        with pytest.raises(CanonicalizationError):
            canonicalize(value)
        with pytest.raises(CanonicalizationError):
            _canonicalize_exact(value)
    else:
        assert fast is None or fast == expected
        assert _canonicalize_exact(value) == expected
        assert canonicalize(value) == expected


def double(ieee754_hex: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(ieee754_hex))[0]
    return value


# ---------------------------------------------------------------- RFC 8785 vectors


@pytest.mark.parametrize("vector", VECTORS["objects"], ids=lambda vector: vector["source"])
def test_rfc8785_object_vectors(vector: dict[str, str]) -> None:
    value = parse_json(vector["input"])
    assert canonicalize(value) == vector["expected"].encode("utf-8")
    assert_matches_reference(value)


@pytest.mark.parametrize("vector", VECTORS["numbers"], ids=lambda vector: vector["ieee754"])
def test_rfc8785_number_vectors(vector: dict[str, Any]) -> None:
    number = double(vector["ieee754"])
    if vector["expected"] is None:
        with pytest.raises(CanonicalizationError, match="is not a JSON number"):
            canonicalize(number)
    else:
        assert canonicalize(number) == vector["expected"].encode("ascii")
        assert canonicalize([number]) == b"[" + vector["expected"].encode("ascii") + b"]"
    assert_matches_reference(number)


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33 (code point order is the reverse).
    assert canonicalize({"\ufb33": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb33":1}'.encode()
    assert canonicalize({"\ufb33": 1, "\u0080": 2}) == '{"\u0080":2,"\ufb33":1}'.encode()


# ---------------------------------------------------------------- the real corpus


def releases_in(document: Any) -> list[Any]:
    """Every release object of a corpus file: a single release, a release package or a
    record package (its records' releases and compiled releases)."""
    if not isinstance(document, dict):
        return []
    if "records" in document:
        found = []
        for record in document["records"]:
            found += [release for release in record.get("releases", []) if isinstance(release, dict)]
            if isinstance(record.get("compiledRelease"), dict):
                found.append(record["compiledRelease"])
        return found
    if "releases" in document:
        return [release for release in document["releases"] if isinstance(release, dict)]
    return [document]


def test_every_real_release_canonicalizes_like_rfc8785(real_documents: list[tuple[str, Any]]) -> None:
    count = 0
    for relative, document in real_documents:
        for release in releases_in(document):
            expected = rfc8785.dumps(release)
            assert canonicalize(release) == expected, relative
            assert _canonicalize_exact(release) == expected, relative
            # The fast path must take real releases, or the Throughput work is moot.
            assert _canonicalize_fast(release) == expected, relative
            count += 1
    assert count > 100  # the corpus holds releases in each of its three layouts


def test_real_files_parsed_strictly_canonicalize_like_json_loads_ones(ocds_real: Path) -> None:
    for path in sorted(ocds_real.rglob("*.json")):
        raw = path.read_bytes()
        if raw.strip():
            assert canonicalize(parse_json(raw)) == rfc8785.dumps(json.loads(raw)), path.name


# ---------------------------------------------------------------- differential fuzz


# Characters whose UTF-16 and code point orders disagree, plus the usual suspects.
KEY_CHARACTERS = "aZ09_-\x00\x1f\x7f\u0080\u00f6\u20ac\ud7ff\ue000\ufb33\uffff\U00010000\U0001f600\U0010ffff"
keys = st.text(alphabet=KEY_CHARACTERS, max_size=4) | st.text(max_size=8)
strings = st.text(max_size=20) | st.text(alphabet=KEY_CHARACTERS + '"\\/\b\f\n\r\t\u2028', max_size=8)
integers = (
    st.integers()
    | st.integers(min_value=-MAX_SAFE_INTEGER - 2, max_value=-MAX_SAFE_INTEGER + 2)
    | st.integers(min_value=MAX_SAFE_INTEGER - 2, max_value=MAX_SAFE_INTEGER + 2)
)
floats = (
    st.floats()  # NaN and infinities included: both sides must refuse them
    | st.floats(min_value=-1e-300, max_value=1e-300)  # subnormals
    | st.floats(min_value=1e15, max_value=1e22)  # around the switches to exponent form
    | st.floats(min_value=1e-8, max_value=1e-3)
    | st.integers(-(2**60), 2**60).map(float)  # integral floats, on both sides of 2**53
    | st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1.7976931348623157e308, 2.0**53, -(2.0**53), 1e21, 1e-7])
)
scalars = st.none() | st.booleans() | integers | floats | strings
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(keys, children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=1500, deadline=None)
@given(json_values)
@example({"\ue000": 1, "\U00010000": 2, "a": {"\uffff": [1.0, 1e16, -0.0]}})
@example([2**53, -(2**53)])
@example({"x": "\ud800"})
@example({"\udfff": 1})
def test_canonicalize_matches_rfc8785_on_arbitrary_json(value: Any) -> None:
    assert_matches_reference(value)
    # The fast path may only decline what it must: refused values and astral keys.
    if reference(value) is not None and not has_astral_key(value):
        assert _canonicalize_fast(value) is not None


@settings(max_examples=1500, deadline=None)
@given(floats)
def test_every_float_formats_like_ecmascript(number: float) -> None:
    assert_matches_reference(number)
    assert_matches_reference({"n": [number]})
    if math.isfinite(number):
        assert _canonicalize_fast({"n": [number]}) == rfc8785.dumps({"n": [number]})


def has_astral_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(any(ord(c) > 0xFFFF for c in key) for key in value) or any(
            map(has_astral_key, value.values())
        )
    return isinstance(value, list) and any(map(has_astral_key, value))


def test_string_escapes_match_rfc8785_for_every_code_point() -> None:
    # Chunks of consecutive code points, surrogates left out (they cannot be encoded).
    code_points = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    chunks = ["".join(map(chr, code_points[i : i + 512])) for i in range(0, len(code_points), 512)]
    expected = rfc8785.dumps(chunks)
    assert _canonicalize_fast(chunks) == expected
    assert _canonicalize_exact(chunks) == expected


def test_canonicalizing_never_changes_the_value() -> None:
    value = {"amount": 1500000.0, "items": [{"quantity": 2.5, "unit": {"value": {"amount": 3.0}}}], "x": 1e16}
    before = copy.deepcopy(value)
    canonicalize(value)
    assert value == before
    assert type(value["amount"]) is float
    assert type(value["items"][0]["unit"]["value"]["amount"]) is float  # type: ignore[index]


# ---------------------------------------------------------------- Python types


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Tag(str, enum.Enum):  # noqa: UP042  # not StrEnum: str(Tag.TENDER) is "Tag.TENDER", which must not leak
    TENDER = "tender"


class Loud(str):
    def __str__(self) -> str:
        return "LOUD"


class Ratio(float):
    pass


class Items(list):  # type: ignore[type-arg]
    pass


@pytest.mark.parametrize(
    "value",
    [
        (1, "two", None),
        Level.HIGH,
        Tag.TENDER,
        {"tag": [Tag.TENDER], "level": Level.HIGH},
        Loud("quiet"),
        {Loud("k"): Loud("v")},
        Ratio(2.5),
        Ratio(3.0),
        Items([1.0, {"b": 1, "a": 2}]),
        OrderedDict([("b", 1), ("a", 2)]),
        {"nested": ({"t": (1.5,)},)},
    ],
    ids=repr,
)
def test_subclasses_and_tuples_canonicalize_like_rfc8785(value: Any) -> None:
    assert reference(value) is not None
    assert_matches_reference(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"bytes", "bytes is not a JSON type"),
        ({1, 2}, "set is not a JSON type"),
        (decimal.Decimal("1.5"), "Decimal is not a JSON type"),
        (datetime.date(2024, 1, 1), "date is not a JSON type"),
        (uuid.UUID(int=1), "UUID is not a JSON type"),
        (Color.RED, "Color is not a JSON type"),
        (1j, "complex is not a JSON type"),
        (orjson.Fragment(b"1"), "Fragment is not a JSON type"),
        (object(), "object is not a JSON type"),
        ({1: "a"}, "object keys must be strings, not int"),
        ({"a": 1, None: 2}, "object keys must be strings, not NoneType"),
    ],
    ids=repr,
)
def test_values_that_are_not_json_are_refused(value: Any, message: str) -> None:
    with pytest.raises(CanonicalizationError, match=message):
        canonicalize(value)
    assert reference(value) is None
    with pytest.raises(CanonicalizationError):
        canonicalize({"wrapped": [value]})


@pytest.mark.parametrize("integer", [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0])
def test_integers_up_to_2_pow_53_minus_1_are_kept_exact(integer: int) -> None:
    assert canonicalize(integer) == str(integer).encode()
    assert canonicalize([integer]) == f"[{integer}]".encode()


@pytest.mark.parametrize("integer", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 2**64, 10**400])
def test_integers_beyond_2_pow_53_minus_1_are_refused_like_rfc8785_does(integer: int) -> None:
    assert reference(integer) is None
    with pytest.raises(CanonicalizationError, match=r"beyond \+-\(2\*\*53 - 1\)"):
        canonicalize({"value": {"amount": integer}})


# ---------------------------------------------------------------- errors name the value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "cannot canonicalize the top-level value: nan is not a JSON number"),
        (
            {"tender": {"value": {"amount": float("inf")}}},
            'cannot canonicalize the value at "/tender/value/amount": inf is not a JSON number',
        ),
        ({"items": [1, 2, {"x": -float("inf")}]}, 'at "/items/2/x": -inf is not a JSON number'),
        ({"a/b": {"c~d": b""}}, 'at "/a~1b/c~0d": bytes is not a JSON type'),
        ({"title": "x\ud800"}, 'at "/title": string holds a lone surrogate U+D800'),
        ({"ok": 1, "\udc00": 2}, 'at "/\\udc00": string holds a lone surrogate U+DC00'),
        ({"parties": [{1: "x"}]}, 'at "/parties/0": object keys must be strings, not int'),
    ],
)
def test_errors_name_the_offending_value_by_json_pointer(value: Any, message: str) -> None:
    with pytest.raises(CanonicalizationError) as caught:
        canonicalize(value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, InputError)


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [1, 200, MAX_DEPTH])
def test_nesting_up_to_max_depth_canonicalizes_like_rfc8785(depth: int) -> None:
    assert canonicalize(nested(depth)) == rfc8785.dumps(nested(depth))
    assert canonicalize({"a": nested(depth - 1)} if depth > 1 else {}) == rfc8785.dumps(
        {"a": nested(depth - 1)} if depth > 1 else {}
    )


def test_nesting_beyond_max_depth_is_refused() -> None:
    with pytest.raises(CanonicalizationError, match=f"nested deeper than {MAX_DEPTH} levels"):
        canonicalize(nested(MAX_DEPTH + 1))
    with pytest.raises(CanonicalizationError, match=f"nested deeper than {MAX_DEPTH} levels"):
        canonicalize(nested(10 * MAX_DEPTH))
