"""Strict JSON parsing of untrusted notice bytes.

A digest is only evidence if everybody reads the same notice out of the same bytes.
``parse_json`` therefore accepts only JSON text (RFC 8259) that has exactly one
meaning and that RFC 8785 can canonicalize. It refuses, with a
:class:`~backend.errors.MalformedJSONError` whose one-line message says what is wrong
and where (line, column and byte offset):

* bytes that are not UTF-8, and a UTF-8 byte order mark. RFC 8259 section 8.1 lets a
  parser skip a BOM, and parsers disagree (Python's ``json.loads`` skips it on bytes,
  orjson and ``JSON.parse`` refuse it). Refusing it gives one answer in every tool;
  the fix for a publisher is to save the file as UTF-8 without BOM;
* lone surrogates, raw or escaped (``"\\ud800"``): RFC 8785 needs valid Unicode;
* duplicate object keys at any depth: parsers keep the first, the last, or both;
* ``NaN``, ``Infinity`` and numbers that overflow an IEEE 754 double (``1e400``);
* nesting deeper than ``max_depth`` and inputs longer than ``max_bytes``;
* anything after the top-level value, and every other syntax error.

Integers keep their exact value (``12345678901234567890`` stays an ``int``), as with
``json.loads``; canonicalization refuses those beyond 2**53 - 1 later.

How it stays fast: most notices are parsed by orjson (Rust). orjson alone keeps
duplicate keys and turns integers beyond 64 bits into floats, so its result is used
only when three cheap byte-level checks prove the strict reading is the same (see
:func:`_parse_fast`). Otherwise, and for every error message, the reference parser
in this module decides: it is the specification, orjson is only a shortcut to it.
"""

from __future__ import annotations

import json
import re
from typing import Final, NoReturn, TypeAlias

import orjson

from backend.errors import MalformedJSONError

JsonValue: TypeAlias = "dict[str, JsonValue] | list[JsonValue] | str | int | float | bool | None"
"""A parsed JSON value: objects are dicts with str keys, arrays are lists."""

DEFAULT_MAX_BYTES: Final = 32 * 1024 * 1024
"""Largest input accepted by default. Release packages of a few MB are common; 32 MiB
leaves room while bounding memory (parsed JSON takes about ten times its size)."""

DEFAULT_MAX_DEPTH: Final = 64
"""Deepest nesting accepted by default. OCDS releases nest about 8 levels deep, record
packages about 11; 64 leaves room for extensions while bounding recursion."""

MAX_DEPTH_LIMIT: Final = 256
"""Highest ``max_depth`` a caller may ask for; must not exceed canonical.MAX_DEPTH,
so that everything parsed can also be canonicalized."""

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_SYNTAX_HINT: Final = (
    "Only strict JSON (RFC 8259) can be sealed: fix the file at that place, or ask its publisher to."
)

# A base-10 integer with this many digits is at least 10**309, beyond the largest double.
_OVERFLOW_DIGITS: Final = 310

# Past this many '+' signs one C search for "e+" is cheaper than looking at each.
_PLUS_SIGNS_TO_INSPECT: Final = 8
_COLON_ESCAPE = re.compile(rb"\\u003[aA]")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]*')
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_SIMPLE_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_LITERALS: Final[tuple[tuple[str, bool | None], ...]] = (("true", True), ("false", False), ("null", None))
_NON_FINITE_NAMES: Final = ("NaN", "Infinity", "-Infinity")
_NUMBER_START: Final = frozenset("-0123456789")
_NUMBER_TAIL: Final = frozenset("0123456789.eE+-")
_INFINITIES: Final = (float("inf"), float("-inf"))


def parse_json(
    data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> JsonValue:
    """Parse strict JSON text from untrusted bytes (or text) into Python values.

    ``max_bytes`` bounds the UTF-8 length of the input; ``max_depth`` bounds how
    deeply arrays and objects nest (a top-level object or array is depth 1).
    Raises MalformedJSONError for anything but unambiguous JSON (see the module
    docstring), ValueError for limits out of range.
    """
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, not {max_bytes}")
    if not 1 <= max_depth <= MAX_DEPTH_LIMIT:
        raise ValueError(f"max_depth must be between 1 and {MAX_DEPTH_LIMIT}, not {max_depth}")
    raw = _utf8_bytes(data, max_bytes)
    try:
        return _parse_fast(raw, max_depth)
    except _UnprovenError:
        return _parse_reference(raw, max_depth)


def _utf8_bytes(data: bytes | str, max_bytes: int) -> bytes:
    """The input as UTF-8 bytes within max_bytes; text with lone surrogates is refused."""
    if isinstance(data, str):
        # Each character takes at least one byte: too many characters is too many bytes.
        if len(data) > max_bytes:
            raise _too_large(None, max_bytes)
        raw = _encode_text(data)
    else:
        raw = bytes(data)
    if len(raw) > max_bytes:
        raise _too_large(len(raw), max_bytes)
    return raw


def _encode_text(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        prefix = text[: exc.start]
        where = _describe_position(prefix, len(prefix.encode("utf-8")))
        raise MalformedJSONError(f"lone surrogate U+{ord(text[exc.start]):04X} at {where}") from None


def _too_large(size: int | None, max_bytes: int) -> MalformedJSONError:
    measured = "" if size is None else f" ({size} bytes)"
    return MalformedJSONError(
        f"input is larger than the limit of {max_bytes} bytes{measured}",
        hint="Split the file, or raise max_bytes if this size is expected.",
    )


# ---------------------------------------------------------------- fast path


class _UnprovenError(Exception):
    """The fast path cannot prove its result equals the reference parser's."""


def _parse_fast(raw: bytes, max_depth: int) -> JsonValue:
    """orjson's reading of ``raw``, returned only when it provably equals the strict one.

    orjson already refuses bad syntax, bad UTF-8, BOMs, lone surrogates, NaN,
    Infinity, overflowing numbers and trailing data. What it lets through is caught
    by re-serializing its result once (``echo``, indented) and comparing bytes:

    * Integers beyond 64 bits come back as floats, and orjson writes every float of
      magnitude >= 1e16 with an ``e+`` exponent: no ``e+`` in the echo, no such float.
    * Duplicate keys: in strict JSON a ``:`` outside strings separates a key from its
      value, so ``raw`` holds one ``:`` per member plus those inside strings, and so
      does the echo. Dropping a duplicate member drops at least its separator, so the
      echo has fewer. Only a ``\\u003a`` escape decodes into an extra ``:``; when one
      is present we do not try.
    * Depth: the echo indents an element of a depth-d container by 2*d spaces and has
      no raw newline inside strings. If no line is indented 2*max_depth spaces, every
      non-empty container is shallower than max_depth, so nothing exceeds it.

    Raises _UnprovenError when a check cannot vouch for the result (including depth
    exactly at the limit); the reference parser then decides. benchmarks/bench_jsontext.py
    measures what each check costs.
    """
    try:
        value = orjson.loads(raw)
        echo = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        raise _UnprovenError from None
    if _has_exponent_plus(echo):
        raise _UnprovenError
    if raw.count(b":") != echo.count(b":") or (b"\\" in raw and _COLON_ESCAPE.search(raw)):
        raise _UnprovenError
    if b"\n" + b" " * (2 * max_depth) in echo:
        raise _UnprovenError
    result: JsonValue = value
    return result


def _has_exponent_plus(echo: bytes) -> bool:
    """Whether ``echo`` holds ``e+``.

    Same answer as ``b"e+" in echo``, faster: CPython searches a two-byte needle far
    more slowly than it finds one byte (memchr), and '+' is rare (phone numbers).
    """
    plus = echo.find(b"+")
    for _ in range(_PLUS_SIGNS_TO_INSPECT):
        if plus < 0:
            return False
        if echo[plus - 1 : plus] == b"e":
            return True
        plus = echo.find(b"+", plus + 1)
    return b"e+" in echo


# ---------------------------------------------------------------- reference parser


def _parse_reference(raw: bytes, max_depth: int) -> JsonValue:
    """The strict reading of ``raw``, or MalformedJSONError naming the first problem."""
    if raw.startswith(_UTF8_BOM):
        raise MalformedJSONError(
            "UTF-8 byte order mark (BOM) at line 1, column 1 (byte 0): JSON text must not start with one",
            hint="Save the file as UTF-8 without BOM.",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8")
        raise MalformedJSONError(
            f"invalid UTF-8 byte 0x{raw[exc.start]:02X} at {_describe_position(prefix, exc.start)}",
            hint="Notices must be UTF-8 encoded; re-save the file as UTF-8.",
        ) from None
    return _ReferenceParser(text, max_depth).parse()


def _describe_position(before: str, byte_offset: int) -> str:
    """'line L, column C (byte B)' for the character right after ``before``."""
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return f"line {line}, column {column} (byte {byte_offset})"


_Container: TypeAlias = "dict[str, JsonValue] | list[JsonValue]"


class _ReferenceParser:
    """RFC 8259 written out for exact error positions rather than speed.

    Iterative (an explicit stack of open containers), so deep input cannot exhaust
    Python's recursion limit before max_depth is checked.
    """

    def __init__(self, text: str, max_depth: int) -> None:
        self._text = text
        self._max_depth = max_depth

    def parse(self) -> JsonValue:
        pos = self._skip_whitespace(0)
        if pos == len(self._text):
            self._fail("empty input: expected a JSON value", pos)
        value, pos = self._parse_tree(pos)
        pos = self._skip_whitespace(pos)
        if pos != len(self._text):
            self._fail("unexpected data after the JSON value", pos)
        return value

    def _parse_tree(self, pos: int) -> tuple[JsonValue, int]:
        text = self._text
        # Open containers, innermost last, each with the key its next value goes to
        # (unused for arrays).
        stack: list[tuple[_Container, str]] = []
        while True:
            pos = self._skip_whitespace(pos)
            opener = text[pos : pos + 1]
            value: JsonValue
            if opener in ("{", "["):
                if len(stack) >= self._max_depth:
                    self._fail(f"nesting deeper than {self._max_depth} levels", pos)
                container: _Container = {} if opener == "{" else []
                pos = self._skip_whitespace(pos + 1)
                if not text.startswith("}" if opener == "{" else "]", pos):
                    key = ""
                    if isinstance(container, dict):
                        key, pos = self._member_key(container, pos)
                    stack.append((container, key))
                    continue
                value, pos = container, pos + 1
            else:
                value, pos = self._scalar(pos)
            # Hand the finished value to its container; close the containers that end here.
            while stack:
                container, key = stack[-1]
                closer = "]" if isinstance(container, list) else "}"
                if isinstance(container, list):
                    container.append(value)
                else:
                    container[key] = value
                pos = self._skip_whitespace(pos)
                separator = text[pos : pos + 1]
                if separator == ",":
                    pos = self._skip_whitespace(pos + 1)
                    if isinstance(container, dict):
                        key, pos = self._member_key(container, pos)
                        stack[-1] = (container, key)
                    break
                if separator != closer:
                    self._fail(f"expected ',' or '{closer}'", pos)
                stack.pop()
                value, pos = container, pos + 1
            else:
                return value, pos

    def _member_key(self, obj: dict[str, JsonValue], pos: int) -> tuple[str, int]:
        """Parse ``"key" :`` at pos; refuse a key the object already has."""
        if not self._text.startswith('"', pos):
            found = self._text[pos : pos + 1]
            self._fail("trailing comma before '}'" if found == "}" else "expected a string key", pos)
        key, end = self._string(pos)
        if key in obj:
            self._fail(f"duplicate key {json.dumps(key[:80])}", pos)
        end = self._skip_whitespace(end)
        if not self._text.startswith(":", end):
            self._fail("expected ':' after object key", end)
        return key, end + 1

    def _scalar(self, pos: int) -> tuple[JsonValue, int]:
        text = self._text
        first = text[pos : pos + 1]
        if first == '"':
            return self._string(pos)
        for name in _NON_FINITE_NAMES:
            if text.startswith(name, pos):
                self._fail(f"{name} is not a JSON number", pos)
        if first and first in _NUMBER_START:
            return self._number(pos)
        for literal, literal_value in _LITERALS:
            if text.startswith(literal, pos):
                return literal_value, pos + len(literal)
        if not first:
            self._fail("unexpected end of input: expected a JSON value", pos)
        if first in ("]", "}") and text[:pos].rstrip(" \t\n\r").endswith(","):
            self._fail(f"trailing comma before '{first}'", pos)
        self._fail("expected a JSON value", pos)

    def _number(self, pos: int) -> tuple[int | float, int]:
        text = self._text
        match = _NUMBER.match(text, pos)
        if match is None or text[match.end() : match.end() + 1] in _NUMBER_TAIL:
            self._fail("invalid number", pos)
        literal = match.group()
        if match.group(1) or match.group(2):
            number = float(literal)
            if number in _INFINITIES:
                self._fail(f"number {literal[:40]} overflows an IEEE 754 double", pos)
            return number, match.end()
        # int() of a huge literal is slow (and capped by Python): count digits first.
        if len(literal.lstrip("-")) < _OVERFLOW_DIGITS:
            integer = int(literal)
            if not _overflows_double(integer):
                return integer, match.end()
        self._fail(f"integer {literal[:40]}... overflows an IEEE 754 double", pos)

    def _string(self, pos: int) -> tuple[str, int]:
        """Parse the string literal whose opening quote is at pos."""
        text = self._text
        start = pos
        pos += 1
        pieces: list[str] = []
        while True:
            run_end = self._match_end(_STRING_RUN, pos)
            pieces.append(text[pos:run_end])
            pos = run_end
            char = text[pos : pos + 1]
            if char == '"':
                return "".join(pieces), pos + 1
            if char == "\\":
                decoded, pos = self._escape(pos)
                pieces.append(decoded)
            elif not char:
                self._fail("unterminated string", start)
            else:
                self._fail(f"unescaped control character U+{ord(char):04X} in string", pos)

    def _escape(self, pos: int) -> tuple[str, int]:
        """Decode the escape sequence at pos (a backslash), joining surrogate pairs."""
        text = self._text
        kind = text[pos + 1 : pos + 2]
        if kind in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[kind], pos + 2
        if kind != "u" or not _HEX4.fullmatch(text, pos + 2, pos + 6):
            self._fail("invalid escape sequence", pos)
        code = int(text[pos + 2 : pos + 6], 16)
        if 0xDC00 <= code <= 0xDFFF:
            self._fail(f"lone surrogate \\u{code:04x} (a low surrogate without a high one)", pos)
        if 0xD800 <= code <= 0xDBFF:
            low_hex = text[pos + 8 : pos + 12]
            paired = text.startswith("\\u", pos + 6) and _HEX4.fullmatch(low_hex) is not None
            low = int(low_hex, 16) if paired else 0
            if not 0xDC00 <= low <= 0xDFFF:
                self._fail(f"lone surrogate \\u{code:04x} (a high surrogate without a low one)", pos)
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), pos + 12
        return chr(code), pos + 6

    def _skip_whitespace(self, pos: int) -> int:
        return self._match_end(_WHITESPACE, pos)

    def _match_end(self, pattern: re.Pattern[str], pos: int) -> int:
        """End of ``pattern`` (which may match empty) at pos."""
        match = pattern.match(self._text, pos)
        return match.end() if match else pos

    def _fail(self, problem: str, pos: int) -> NoReturn:
        before = self._text[:pos]
        where = _describe_position(before, len(before.encode("utf-8")))
        raise MalformedJSONError(f"{problem} at {where}", hint=_SYNTAX_HINT)


def _overflows_double(integer: int) -> bool:
    try:
        float(integer)
    except OverflowError:
        return True
    return False
