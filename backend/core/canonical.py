"""RFC 8785 (JSON Canonicalization Scheme, JCS) canonical bytes.

A release digest is SHA-256 over these bytes, and anyone must be able to recompute
it with another RFC 8785 implementation. So the output is pinned byte for byte to
the RFC and to the reference Python implementation (the ``rfc8785`` package, used
only by the tests and benchmarks): UTF-16 code-unit key order, ECMAScript number
formatting, RFC 8785 string escapes, no whitespace, UTF-8.

Accepted values are those of ``rfc8785``: None, bool, int, float, str, list, tuple
and dict with str keys, subclasses included (an IntEnum is its integer, a str
subclass its characters). Refused with :class:`CanonicalizationError`, which names
the offending value by JSON pointer:

* any other type (bytes, Decimal, datetime, set, ...) and non-str keys;
* NaN and infinities, which JSON cannot express;
* integers beyond +-(2**53 - 1): ``rfc8785`` refuses them rather than round them to
  the nearest double, and so do we (a digest must not silently lose digits);
* strings holding lone surrogates, which have no UTF-8 form;
* values nested deeper than MAX_DEPTH (``rfc8785`` itself fails with RecursionError
  somewhat deeper).

Two paths produce the bytes. The fast path lets orjson write the output and proves,
for the values it takes, that orjson's bytes are the RFC 8785 bytes (see
:func:`_canonicalize_fast`). The exact path below it is a direct transcription of
the RFC; it handles everything the fast path declines and words every error.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

import orjson

from backend.core.pointer import json_pointer
from backend.errors import CanonicalizationError

MAX_SAFE_INTEGER: Final = 2**53 - 1
"""Largest integer magnitude accepted: beyond it a double cannot hold every integer."""

MAX_DEPTH: Final = 256
"""Deepest nesting accepted (a top-level array or object is depth 1)."""

_FAST_OPTIONS: Final = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
_TWO_53: Final = float(2**53)
_BEYOND_BMP: Final = "\U00010000"

# RFC 8785 section 3.2.2.2: the short escapes where JSON has them, \u00XX (lowercase)
# for the other control characters, a backslash before '"' and '\'; nothing else.
_NEEDS_ESCAPE: Final = re.compile(r'[\x00-\x1f"\\]')
_STRING_ESCAPES: Final[dict[int, str]] = {
    **{code: f"\\u{code:04x}" for code in range(0x20)},
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}


def canonicalize(value: object) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (see the module docstring)."""
    fast = _canonicalize_fast(value)
    return fast if fast is not None else _canonicalize_exact(value)


# ---------------------------------------------------------------- fast path


class _NotFastError(Exception):
    """The fast path declines this value; the exact path will decide."""


def _canonicalize_fast(value: object) -> bytes | None:
    """orjson's sorted, compact bytes when they are provably the RFC 8785 bytes, else None.

    Taken: plain values (exact dict, list, str, int, float, bool, None, as parse_json
    returns them). For those, orjson with sorted keys writes what RFC 8785 asks for -
    the same separators, the same string escapes, integers in decimal - except:

    * floats: orjson writes ``1.0``, ``1e+16``, ``1e-6`` where ECMAScript writes
      ``1``, ``10000000000000000``, ``0.000001``. _prepare_* hand orjson each float's
      integer instead (when it is integral and below 2**53, where the two agree) or an
      orjson.Fragment holding its ECMAScript text (see _float_stand_in).
    * key order: orjson sorts by code point, RFC 8785 by UTF-16 code unit. The orders
      differ only between a character beyond U+FFFF (a surrogate pair in UTF-16,
      D800-DFFF) and one in E000-FFFF, so a value with such a key takes the exact path.
    * integers beyond +-(2**53 - 1): OPT_STRICT_INTEGER refuses exactly those.

    Anything else (subclasses, tuples, foreign types, non-str keys, lone surrogates,
    deep nesting) makes _prepare_* or orjson give up.
    """
    try:
        prepared = _prepare_root(value)
        out = orjson.dumps(prepared, option=_FAST_OPTIONS)
    except (_NotFastError, orjson.JSONEncodeError):
        return None
    # Five byte searches (memchr) cost less than one pass over the keys.
    astral = b"\xf0" in out or b"\xf1" in out or b"\xf2" in out or b"\xf3" in out or b"\xf4" in out
    if astral and _has_astral_key(value):
        return None
    return out


def _prepare_root(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return _prepare_dict(value, 1)
    if kind is list:
        return _prepare_list(value, 1)
    if kind is float:
        return _float_stand_in(value)
    if kind is str or kind in _OTHER_PLAIN_SCALARS:
        return value
    raise _NotFastError


# _prepare_dict and _prepare_list are the hot loop (one pass over every value of every
# release), hence exact types, str (most values) tested first, integral floats
# converted in line, and copies made only when a float below needs a stand-in.
_OTHER_PLAIN_SCALARS: Final = frozenset({int, bool, type(None)})


def _prepare_dict(obj: dict[Any, Any], depth: int) -> dict[Any, Any]:
    """``obj``, or a copy of it with floats replaced by their stand-ins."""
    if depth > MAX_DEPTH:
        raise _NotFastError
    copy: dict[Any, Any] | None = None
    for key, item in obj.items():
        kind = type(item)
        if kind is str:
            continue
        new: object
        if kind is dict:
            new = _prepare_dict(item, depth + 1)
        elif kind is list:
            new = _prepare_list(item, depth + 1)
        elif kind is float:
            integral = item.is_integer() and -_TWO_53 < item < _TWO_53
            new = int(item) if integral else _float_stand_in(item)
        elif kind in _OTHER_PLAIN_SCALARS:
            continue
        else:
            raise _NotFastError
        if new is not item:
            if copy is None:
                copy = obj.copy()
            copy[key] = new
    return obj if copy is None else copy


def _prepare_list(array: list[Any], depth: int) -> list[Any]:
    """``array``, or a copy of it with floats replaced by their stand-ins."""
    if depth > MAX_DEPTH:
        raise _NotFastError
    copy: list[Any] | None = None
    for index, item in enumerate(array):
        kind = type(item)
        if kind is str:
            continue
        new: object
        if kind is dict:
            new = _prepare_dict(item, depth + 1)
        elif kind is list:
            new = _prepare_list(item, depth + 1)
        elif kind is float:
            integral = item.is_integer() and -_TWO_53 < item < _TWO_53
            new = int(item) if integral else _float_stand_in(item)
        elif kind in _OTHER_PLAIN_SCALARS:
            continue
        else:
            raise _NotFastError
        if new is not item:
            if copy is None:
                copy = array.copy()
            copy[index] = new
    return array if copy is None else copy


def _float_stand_in(number: float) -> float | int | orjson.Fragment:
    """What orjson must be given to write ``number`` the ECMAScript way.

    An integral double below 2**53 is written as its integer (its shortest digits are
    its integer digits); any other finite double as an orjson.Fragment of its
    ECMAScript text, or as itself when orjson already writes exactly that text
    (checked, not assumed), which spares copying its containers.
    """
    if number.is_integer():
        if -_TWO_53 < number < _TWO_53:
            return int(number)
    elif not math.isfinite(number):
        raise _NotFastError
    text = _number_text(number)
    if orjson.dumps(number) == text.encode("ascii"):
        return number
    return orjson.Fragment(text)


def _has_astral_key(value: object) -> bool:
    """Whether any object key in ``value`` (plain containers only) lies beyond U+FFFF."""
    if isinstance(value, dict):
        return any(max(key, default="") >= _BEYOND_BMP for key in value) or any(
            _has_astral_key(item) for item in value.values()
        )
    if isinstance(value, list):
        return any(_has_astral_key(item) for item in value)
    return False


# ---------------------------------------------------------------- exact path


class _LocatedError(Exception):
    """A canonicalization problem; ``path`` grows by one step per container it leaves."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = []  # innermost step first


def _canonicalize_exact(value: object) -> bytes:
    """RFC 8785 section 3.2, written out; type handling follows the ``rfc8785`` package."""
    parts: list[bytes] = []
    try:
        _write_value(value, parts, 0)
    except _LocatedError as exc:
        raise _error(exc.path[::-1], exc.problem) from None
    return b"".join(parts)


def _write_value(value: object, parts: list[bytes], depth: int) -> None:
    """Append the canonical bytes of ``value``, nested in ``depth`` containers."""
    # The order of the isinstance tests is rfc8785's: it decides for subclasses.
    if value is None:
        parts.append(b"null")
    elif isinstance(value, bool):
        parts.append(b"true" if value else b"false")
    elif isinstance(value, int):
        integer = int(value)
        if not -MAX_SAFE_INTEGER <= integer <= MAX_SAFE_INTEGER:
            raise _LocatedError(
                f"integer {integer} is beyond +-(2**53 - 1), which a JSON number holds exactly"
            )
        parts.append(str(integer).encode("ascii"))
    elif isinstance(value, str):
        parts.append(_quote(str.__str__(value)))
    elif isinstance(value, float):
        number = float(value)
        if not math.isfinite(number):
            raise _LocatedError(f"{number} is not a JSON number")
        parts.append(_number_text(number).encode("ascii"))
    elif isinstance(value, list | tuple):
        _check_depth(depth)
        _write_array(value, parts, depth + 1)
    elif isinstance(value, dict):
        _check_depth(depth)
        _write_object(dict(value), parts, depth + 1)
    else:
        raise _LocatedError(f"{type(value).__name__} is not a JSON type")


def _write_array(items: list[object] | tuple[object, ...], parts: list[bytes], depth: int) -> None:
    parts.append(b"[")
    for index, item in enumerate(items):
        if index:
            parts.append(b",")
        try:
            _write_value(item, parts, depth)
        except _LocatedError as exc:
            exc.path.append(index)
            raise
    parts.append(b"]")


def _write_object(members: dict[object, object], parts: list[bytes], depth: int) -> None:
    """RFC 8785 section 3.2.3: members sorted by the UTF-16 code units of their keys."""
    keys: list[str] = []
    for key in members:
        if not isinstance(key, str):
            raise _LocatedError(f"object keys must be strings, not {type(key).__name__}")
        keys.append(key)
    keys.sort(key=_utf16_code_units)
    parts.append(b"{")
    for index, key in enumerate(keys):
        if index:
            parts.append(b",")
        try:
            parts.append(_quote(str.__str__(key)))
            parts.append(b":")
            _write_value(members[key], parts, depth)
        except _LocatedError as exc:
            exc.path.append(key)
            raise
    parts.append(b"}")


def _check_depth(depth: int) -> None:
    # depth counts the enclosing containers, so this one is depth + 1 deep.
    if depth >= MAX_DEPTH:
        raise _LocatedError(f"nested deeper than {MAX_DEPTH} levels")


def _utf16_code_units(key: str) -> bytes:
    # Big-endian bytes compare like the code units; surrogatepass lets a lone surrogate
    # sort, so that _quote can report it with its path.
    return key.encode("utf-16-be", "surrogatepass")


def _quote(text: str) -> bytes:
    """RFC 8785 section 3.2.2.2 string serialization."""
    if _NEEDS_ESCAPE.search(text):
        text = text.translate(_STRING_ESCAPES)
    try:
        return b'"' + text.encode("utf-8") + b'"'
    except UnicodeEncodeError as exc:
        raise _LocatedError(f"string holds a lone surrogate U+{ord(text[exc.start]):04X}") from None


def _number_text(number: float) -> str:
    """ECMAScript Number::toString for a finite double (RFC 8785 section 3.2.2.3).

    Python's repr() already picks the digits ECMAScript does: the shortest that read
    back to the same double, the closest when several are as short. Only the layout
    differs: ECMAScript writes plain digits from 1e-7 up to 1e21 and drops ``.0``.
    """
    if number == 0:
        return "0"  # also for -0.0
    text = repr(number)
    if "e" not in text:
        # repr is positional in [1e-4, 1e16), inside ECMAScript's positional range.
        return text[:-2] if text.endswith(".0") else text
    mantissa, exponent = text.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0")
    # ECMAScript's n: the value is 0.<digits> * 10**n.
    n = int(exponent) + 1
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    fraction = "." + digits[1:] if k > 1 else ""
    return f"{sign}{digits[0]}{fraction}e{'+' if n > 0 else '-'}{abs(n - 1)}"


def _error(path: list[str | int], problem: str) -> CanonicalizationError:
    where = "the top-level value" if not path else f"the value at {json.dumps(json_pointer(path))}"
    return CanonicalizationError(
        f"cannot canonicalize {where}: {problem}",
        hint="RFC 8785 covers JSON values only; fix the value before sealing it.",
    )
