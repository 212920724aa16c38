"""Which fields of a release differ from the original: RFC 6901 JSON pointers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backend.core.pointer import escape_token

MAX_POINTERS = 1000


_escape = escape_token


def _same(a: Any, b: Any) -> bool:
    # JSON has one number type: 1 and 1.0 are the same value; true and 1 are not.
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _walk(original: Any, altered: Any, pointer: str) -> Iterator[str]:
    if isinstance(original, dict) and isinstance(altered, dict):
        for key in sorted(set(original) | set(altered)):
            here = f"{pointer}/{_escape(str(key))}"
            if key not in original or key not in altered:
                yield here
            else:
                yield from _walk(original[key], altered[key], here)
    elif isinstance(original, list) and isinstance(altered, list):
        for index in range(max(len(original), len(altered))):
            here = f"{pointer}/{index}"
            if index >= len(original) or index >= len(altered):
                yield here
            else:
                yield from _walk(original[index], altered[index], here)
    elif not _same(original, altered):
        yield pointer or ""


def changed_pointers(original: Any, altered: Any, *, limit: int = MAX_POINTERS) -> list[str]:
    """JSON pointers of every value that was changed, added or removed (at most ``limit``)."""
    found: list[str] = []
    for pointer in _walk(original, altered, ""):
        found.append(pointer)
        if len(found) >= limit:
            break
    return found
