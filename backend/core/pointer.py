"""RFC 6901 JSON pointers: the one codec for every pointer the project writes or reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class PointerError(LookupError):
    """A pointer that names no value in the document."""


def escape_token(token: str | int) -> str:
    """One reference token, escaped: ``~`` -> ``~0``, ``/`` -> ``~1`` (in that order)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """One reference token, unescaped (``~1`` first, then ``~0``, as RFC 6901 section 4 says)."""
    return token.replace("~1", "/").replace("~0", "~")


def json_pointer(path: Iterable[str | int]) -> str:
    """The pointer of a path of keys and indexes: ``["awards", 0, "a/b"]`` -> ``/awards/0/a~1b``."""
    return "".join("/" + escape_token(step) for step in path)


def split_pointer(pointer: str) -> list[str]:
    """The unescaped tokens of ``pointer`` ("" is the whole document)."""
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise PointerError(f"{pointer!r} is not a JSON pointer: it must start with '/'")
    return [unescape_token(t) for t in pointer[1:].split("/")]


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value ``pointer`` names in ``document``; PointerError when there is none."""
    value = document
    for token in split_pointer(pointer):
        try:
            if isinstance(value, list):
                if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
                    raise PointerError(f"no value at {pointer}")
                value = value[int(token)]
            elif isinstance(value, dict):
                value = value[token]
            else:
                raise PointerError(f"no value at {pointer}")
        except (KeyError, IndexError) as exc:
            raise PointerError(f"no value at {pointer}") from exc
    return value
