"""Strict JSON parsing: what parse_json accepts, what it refuses, and where it says so.

The fast path (orjson plus byte-level proofs) must agree with the reference parser on
every input: the differential tests below feed both the same texts, valid and broken.
"""

from __future__ import annotations

import json
import math
import string
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backend.core import canonical
from backend.core.jsontext import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    MAX_DEPTH_LIMIT,
    _has_exponent_plus,
    _parse_fast,
    _parse_reference,
    _UnprovenError,
    parse_json,
)
from backend.errors import InputError, MalformedJSONError

# ---------------------------------------------------------------- helpers


def same(a: Any, b: Any) -> bool:
    """Equal and of the same JSON types all the way down (1 is not 1.0, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def refused(data: bytes | str, **limits: int) -> str:
    """The message parse_json refuses ``data`` with (fails the test if it accepts it)."""
    with pytest.raises(MalformedJSONError) as caught:
        parse_json(data, **limits)
    return str(caught.value)


def outcome(data: bytes | str) -> tuple[str, Any]:
    """("value", parsed) or ("refused", message)."""
    try:
        return ("value", parse_json(data))
    except MalformedJSONError as error:
        return ("refused", str(error))


def nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


# ---------------------------------------------------------------- valid JSON


def test_a_real_shaped_release_parses_to_plain_python_values() -> None:
    text = b'{"ocid": "ocds-1", "tag": ["tender"], "tender": {"value": {"amount": 12.5, "currency": "PYG"}}}'
    assert parse_json(text) == {
        "ocid": "ocds-1",
        "tag": ["tender"],
        "tender": {"value": {"amount": 12.5, "currency": "PYG"}},
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("-0", 0),
        ("-0.0", -0.0),
        ("1E2", 100.0),
        ("1e-400", 0.0),  # underflow rounds to zero, as in every JSON parser; only overflow is refused
        ("1.7976931348623157e308", sys.float_info.max),
        ("18446744073709551616", 2**64),  # beyond 64 bits: still an exact int, never a float
        ("-9223372036854775809", -(2**63) - 1),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ('"\\ud83d\\ude00"', "\U0001f600"),
        ('"\\u0000\\/\\b"', "\x00/\b"),
        (" \t\r\n[1 ,\r\n 2]\n", [1, 2]),
        ('"\x7f\u2028"', "\x7f\u2028"),
    ],
)
def test_valid_json_gives_the_values_json_loads_gives(text: str, expected: Any) -> None:
    assert same(parse_json(text), expected)
    assert same(parse_json(text.encode("utf-8")), expected)
    assert same(parse_json(text), json.loads(text))


def test_the_largest_double_written_as_an_integer_is_accepted() -> None:
    largest = int(sys.float_info.max)
    assert parse_json(str(largest)) == largest
    # Just below the midpoint between the largest double and 2**1024 still rounds down.
    assert parse_json(str(2**1024 - 2**970 - 1)) == 2**1024 - 2**970 - 1


@settings(max_examples=300, deadline=None)
@given(
    value=json_values,
    indent=st.none() | st.integers(0, 3),
    ensure_ascii=st.booleans(),
    sort_keys=st.booleans(),
)
def test_any_json_text_parses_to_what_json_loads_gives(
    value: Any, indent: int | None, ensure_ascii: bool, sort_keys: bool
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys)
    assert same(parse_json(text.encode("utf-8")), json.loads(text))


def test_every_real_corpus_file_parses_like_json_loads(
    real_documents: list[tuple[str, Any]], ocds_real: Path
) -> None:
    for relative, loaded in real_documents:
        assert same(parse_json((ocds_real / relative).read_bytes()), loaded), relative


def test_empty_corpus_files_are_refused_as_empty_input(ocds_real: Path) -> None:
    empty = [path for path in ocds_real.rglob("*.json") if path.stat().st_size == 0]
    if not empty:
        pytest.skip("no empty file in this copy of the corpus")
    for path in empty:
        assert refused(path.read_bytes()) == "empty input: expected a JSON value at line 1, column 1 (byte 0)"


# ---------------------------------------------------------------- refused, with a place


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1,\n "a": 2}', 'duplicate key "a" at line 2, column 2 (byte 10)'),
        (b'[{"x": {"y": 1, "y": 2}}]', 'duplicate key "y" at line 1, column 17 (byte 16)'),
        (b'{"\\u00e9": 1, "\xc3\xa9": 2}', 'duplicate key "\\u00e9" at line 1, column 15 (byte 14)'),
        (b"[1, NaN]", "NaN is not a JSON number at line 1, column 5 (byte 4)"),
        (b"Infinity", "Infinity is not a JSON number at line 1, column 1 (byte 0)"),
        (b"[-Infinity]", "-Infinity is not a JSON number at line 1, column 2 (byte 1)"),
        (b"[1e400]", "number 1e400 overflows an IEEE 754 double at line 1, column 2 (byte 1)"),
        (
            b"-1.7976931348623159e308",
            "number -1.7976931348623159e308 overflows an IEEE 754 double at line 1, column 1 (byte 0)",
        ),
        (
            b'"\\ud800"',
            "lone surrogate \\ud800 (a high surrogate without a low one) at line 1, column 2 (byte 1)",
        ),
        (
            b'"\\ud800\\u0041"',
            "lone surrogate \\ud800 (a high surrogate without a low one) at line 1, column 2 (byte 1)",
        ),
        (
            b'"x\\udc00\\ud800"',
            "lone surrogate \\udc00 (a low surrogate without a high one) at line 1, column 3 (byte 2)",
        ),
        (b'"\xed\xa0\x80"', "invalid UTF-8 byte 0xED at line 1, column 2 (byte 1)"),
        (b'{"name": "caf\xe9"}', "invalid UTF-8 byte 0xE9 at line 1, column 14 (byte 13)"),
        (
            b"\xef\xbb\xbf{}",
            "UTF-8 byte order mark (BOM) at line 1, column 1 (byte 0): JSON text must not start with one",
        ),
        (b"{} {}", "unexpected data after the JSON value at line 1, column 4 (byte 3)"),
        (b"[1]x", "unexpected data after the JSON value at line 1, column 4 (byte 3)"),
        (b"", "empty input: expected a JSON value at line 1, column 1 (byte 0)"),
        (b"[1,]", "trailing comma before ']' at line 1, column 4 (byte 3)"),
        (b'{"a": 1,}', "trailing comma before '}' at line 1, column 9 (byte 8)"),
        (b'{"a":}', "expected a JSON value at line 1, column 6 (byte 5)"),
        (b"[01]", "invalid number at line 1, column 2 (byte 1)"),
        (b"[1.]", "invalid number at line 1, column 2 (byte 1)"),
        (b'{"a" 1}', "expected ':' after object key at line 1, column 6 (byte 5)"),
        (b"{a: 1}", "expected a string key at line 1, column 2 (byte 1)"),
        (b"[1 2]", "expected ',' or ']' at line 1, column 4 (byte 3)"),
        (b'"tab\there"', "unescaped control character U+0009 in string at line 1, column 5 (byte 4)"),
        (b'"\\x"', "invalid escape sequence at line 1, column 2 (byte 1)"),
        (b'"open', "unterminated string at line 1, column 1 (byte 0)"),
        (b"[true, tru]", "expected a JSON value at line 1, column 8 (byte 7)"),
        ('["é", Nan]'.encode(), "expected a JSON value at line 1, column 7 (byte 7)"),
    ],
)
def test_refusals_say_what_is_wrong_and_where(data: bytes, message: str) -> None:
    assert refused(data) == message


def test_syntax_refusals_say_what_to_do() -> None:
    with pytest.raises(MalformedJSONError) as caught:
        parse_json(b'{"a": 1, "a": 2}')
    assert "strict JSON" in caught.value.hint
    assert caught.value.diagnostics() == f"{caught.value}\n{caught.value.hint}"


def test_a_bom_refusal_tells_the_publisher_what_to_do() -> None:
    with pytest.raises(MalformedJSONError) as caught:
        parse_json(b"\xef\xbb\xbf{}")
    assert caught.value.hint == "Save the file as UTF-8 without BOM."
    assert isinstance(caught.value, InputError)
    assert caught.value.exit_code == 2


def test_a_bom_in_text_input_is_refused_too() -> None:
    assert refused("\ufeff{}").startswith("UTF-8 byte order mark (BOM)")


def test_text_with_a_lone_surrogate_is_refused_where_it_is() -> None:
    assert refused('{"a": "ok",\n "b": "x\ud800"}') == "lone surrogate U+D800 at line 2, column 9 (byte 20)"


def test_an_integer_that_rounds_to_infinity_is_refused() -> None:
    # 2**1024 - 2**970 lies halfway between the largest double and 2**1024: it rounds up.
    assert "overflows an IEEE 754 double" in refused(str(2**1024 - 2**970))
    assert "overflows an IEEE 754 double" in refused("-1" + "0" * 400)
    assert "overflows an IEEE 754 double" in refused("9" * 5000)  # beyond Python's int() digit cap


def test_duplicate_keys_are_found_behind_colon_escapes() -> None:
    # A \u003a escape adds a ':' to the parsed strings, which could hide one dropped
    # member from the fast path's colon count: the reference parser must decide.
    assert refused(b'{"k": "\\u003a", "k": 1}').startswith('duplicate key "k"')
    assert refused(b'{"k\\u003A": 1, "k:": 2}').startswith('duplicate key "k:"')


@given(st.binary(max_size=30))
@example(b"\xff")
@example(b'{"a":1}\x00')
def test_refusal_messages_are_one_line_with_a_place(data: bytes) -> None:
    verdict, result = outcome(data)
    if verdict == "refused":
        assert "\n" not in result
        assert "line " in result
        assert "(byte " in result


# ---------------------------------------------------------------- limits at their boundary


@pytest.mark.parametrize("limit", [1, 2, 10, DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT])
@pytest.mark.parametrize("nested", [nested_arrays, nested_objects])
def test_nesting_at_the_depth_limit_passes_and_one_more_level_fails(limit: int, nested: Any) -> None:
    assert parse_json(nested(limit), max_depth=limit) is not None
    assert refused(nested(limit + 1), max_depth=limit).startswith(
        f"nesting deeper than {limit} levels at line 1"
    )


def test_whatever_parses_can_also_be_canonicalized_depth_wise() -> None:
    assert MAX_DEPTH_LIMIT <= canonical.MAX_DEPTH


def test_the_default_depth_limit_is_64() -> None:
    assert DEFAULT_MAX_DEPTH == 64
    assert parse_json(nested_arrays(64)) is not None
    assert refused(nested_arrays(65)) == "nesting deeper than 64 levels at line 1, column 65 (byte 64)"


def test_scalars_have_no_depth() -> None:
    assert parse_json(b'"deep"', max_depth=1) == "deep"


@pytest.mark.parametrize("limit", [0, 1, 100])
def test_input_at_the_size_limit_passes_and_one_byte_more_fails(limit: int) -> None:
    fits = b" " * (limit - 1) + b"0" if limit else b""
    if limit:
        assert parse_json(fits, max_bytes=limit) == 0
    assert (
        refused(fits + b" ", max_bytes=limit)
        == f"input is larger than the limit of {limit} bytes ({limit + 1} bytes)"
    )


def test_the_size_limit_counts_utf8_bytes_of_text_input() -> None:
    text = '"' + "é" * 4 + '"'  # 6 characters, 10 bytes
    assert parse_json(text, max_bytes=10) == "éééé"
    assert refused(text, max_bytes=9) == "input is larger than the limit of 9 bytes (10 bytes)"
    assert refused(text, max_bytes=5) == "input is larger than the limit of 5 bytes"


def test_the_default_size_limit_is_32_mib_at_its_boundary() -> None:
    assert DEFAULT_MAX_BYTES == 32 * 1024 * 1024
    fits = b" " * (DEFAULT_MAX_BYTES - 1) + b"1"
    assert parse_json(fits) == 1
    assert (
        refused(fits + b" ")
        == f"input is larger than the limit of {DEFAULT_MAX_BYTES} bytes ({DEFAULT_MAX_BYTES + 1} bytes)"
    )


@pytest.mark.parametrize("limits", [{"max_depth": 0}, {"max_depth": MAX_DEPTH_LIMIT + 1}, {"max_bytes": -1}])
def test_limits_out_of_range_are_a_programming_error(limits: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        parse_json(b"0", **limits)


# ---------------------------------------------------------------- fast path == reference parser


def fast_or_none(raw: bytes, max_depth: int) -> Any:
    """The fast path's value, or a marker when it declines (or when orjson refuses)."""
    try:
        return ("value", _parse_fast(raw, max_depth))
    except _UnprovenError:
        return None


def reference(raw: bytes, max_depth: int) -> Any:
    try:
        return ("value", _parse_reference(raw, max_depth))
    except MalformedJSONError:
        return ("refused",)


def assert_fast_path_agrees(raw: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    fast = fast_or_none(raw, max_depth)
    if fast is not None:
        expected = reference(raw, max_depth)
        assert expected[0] == "value", f"fast path accepted what the reference refuses: {raw!r}"
        assert same(fast[1], expected[1])


class Obj:
    """A JSON object as its member list, so that tests can write duplicate keys."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


KEY_ALPHABET = 'ab:\\"é\u2028\U0001f600'
trees = st.recursive(
    json_scalars | st.text(alphabet=KEY_ALPHABET, max_size=4),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(st.tuples(st.text(alphabet=KEY_ALPHABET, max_size=2), children), max_size=4).map(Obj)
    ),
    max_leaves=20,
)


def write(tree: Any, escape_colons: bool) -> str:
    """JSON text for a tree of Obj/list/scalars; colons in strings optionally as \\u003a."""
    if isinstance(tree, Obj):
        return (
            "{"
            + ",".join(f"{write(k, escape_colons)}:{write(v, escape_colons)}" for k, v in tree.pairs)
            + "}"
        )
    if isinstance(tree, list):
        return "[" + ",".join(write(item, escape_colons) for item in tree) + "]"
    text = json.dumps(tree)
    return text.replace(":", "\\u003a") if escape_colons and isinstance(tree, str) else text


def has_duplicates(tree: Any) -> bool:
    if isinstance(tree, Obj):
        keys = [k for k, _ in tree.pairs]
        return len(set(keys)) < len(keys) or any(has_duplicates(v) for _, v in tree.pairs)
    if isinstance(tree, list):
        return any(has_duplicates(item) for item in tree)
    return False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, escape_colons=st.booleans())
def test_duplicate_keys_at_any_depth_are_refused_by_both_paths(tree: Any, escape_colons: bool) -> None:
    raw = write(tree, escape_colons).encode("utf-8")
    assert_fast_path_agrees(raw)
    if has_duplicates(tree):
        assert refused(raw).startswith("duplicate key ")
    else:
        parse_json(raw)


@settings(max_examples=400, deadline=None)
@given(value=json_values, data=st.data())
def test_mutated_json_gets_the_same_verdict_from_both_paths(value: Any, data: st.DataObject) -> None:
    raw = bytearray(json.dumps(value, ensure_ascii=data.draw(st.booleans())).encode("utf-8"))
    for _ in range(data.draw(st.integers(0, 3))):
        position = data.draw(st.integers(0, len(raw)))
        junk = data.draw(
            st.sampled_from([b",", b":", b"{", b"]", b'"', b"\\", b"-", b"e", b"0", b"\xff", b"\xed", b" "])
        )
        if data.draw(st.booleans()) or position == len(raw):
            raw[position:position] = junk
        else:
            del raw[position]
    assert_fast_path_agrees(bytes(raw))
    assert_fast_path_agrees(bytes(raw), max_depth=2)


@settings(max_examples=200, deadline=None)
@given(depth=st.integers(1, 12), limit=st.integers(1, 12), objects=st.booleans())
def test_depth_checks_of_both_paths_agree(depth: int, limit: int, objects: bool) -> None:
    raw = nested_objects(depth) if objects else nested_arrays(depth)
    assert_fast_path_agrees(raw, limit)
    assert (reference(raw, limit)[0] == "value") == (depth <= limit)


def test_the_fast_path_takes_ordinary_releases() -> None:
    # Otherwise every notice would silently pay for the reference parser.
    release = b'{"ocid":"ocds-1","tender":{"value":{"amount":1.5e3,"currency":"EUR"},"items":[{"id":"1"}]}}'
    assert fast_or_none(release, DEFAULT_MAX_DEPTH) is not None


@settings(max_examples=300)
@given(
    st.floats(min_value=2.0**63, allow_infinity=False) | st.floats(max_value=-(2.0**63), allow_infinity=False)
)
def test_orjson_writes_every_float_beyond_64_bit_integers_with_an_exponent(number: float) -> None:
    # The fast path relies on this to notice integers that orjson turned into floats.
    assert b"e+" in orjson.dumps(number, option=orjson.OPT_INDENT_2)


@given(st.text(alphabet=string.printable, max_size=40))
def test_text_and_bytes_input_give_the_same_verdict(text: str) -> None:
    from_text, from_bytes = outcome(text), outcome(text.encode("utf-8"))
    assert from_text[0] == from_bytes[0]
    if from_text[0] == "refused":
        assert from_text == from_bytes
    else:
        assert same(from_text[1], from_bytes[1])


@given(st.binary(max_size=60).map(lambda data: bytes(b"e+a"[byte % 3] for byte in data)))
@example(b"+" * 20 + b"e+")
@example(b"+" * 20)
def test_the_exponent_search_answers_like_a_plain_search(echo: bytes) -> None:
    assert _has_exponent_plus(echo) == (b"e+" in echo)
