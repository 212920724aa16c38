"""What each strict-parsing check costs, per ~5 KB release, in microseconds.

parse_json runs orjson, then proves with byte-level checks that orjson's reading is
the strict one (see backend/core/jsontext.py). This prints the cost of each step,
cumulatively, next to ``json.loads`` (the usual floor) and the reference parser
(which parse_json falls back to only when a check cannot vouch for orjson).
Same releases and CPU-time method as bench_digest.py.
Run: ``.venv/bin/python benchmarks/bench_jsontext.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import orjson
from bench_digest import CORPUS, MAX_BYTES, MIN_BYTES, best_rates, corpus_releases, synthetic_releases

from backend.core.jsontext import (
    _COLON_ESCAPE,
    DEFAULT_MAX_DEPTH,
    _has_exponent_plus,
    _parse_reference,
    parse_json,
)

ROUNDS = 20


def strict_stdlib_loads(raw: bytes) -> object:
    """The obvious strict parser, for comparison: json.loads with hooks that refuse
    duplicate keys, NaN/Infinity and overflowing floats (no depth or surrogate checks)."""

    def members(pairs: list[tuple[str, object]]) -> dict[str, object]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            raise ValueError("duplicate key")
        return obj

    def finite(text: str) -> float:
        number = float(text)
        if number in (float("inf"), float("-inf")):
            raise ValueError("overflow")
        return number

    def refuse(name: str) -> object:
        raise ValueError(name)

    return json.loads(raw, object_pairs_hook=members, parse_float=finite, parse_constant=refuse)


def steps(texts: list[bytes]) -> dict[str, Callable[[], object]]:
    """The fast path built up one check at a time, plus the references around it."""
    needle = b"\n" + b" " * (2 * DEFAULT_MAX_DEPTH)
    loads, dumps, indent = orjson.loads, orjson.dumps, orjson.OPT_INDENT_2

    def echo_only() -> None:
        for raw in texts:
            dumps(loads(raw), option=indent)

    def with_exponent_check() -> None:
        for raw in texts:
            echo = dumps(loads(raw), option=indent)
            _has_exponent_plus(echo)

    def with_duplicate_check() -> None:
        for raw in texts:
            echo = dumps(loads(raw), option=indent)
            _has_exponent_plus(echo)
            _ = raw.count(b":") != echo.count(b":") or (b"\\" in raw and _COLON_ESCAPE.search(raw))

    def with_depth_check() -> None:
        for raw in texts:
            echo = dumps(loads(raw), option=indent)
            _has_exponent_plus(echo)
            _ = raw.count(b":") != echo.count(b":") or (b"\\" in raw and _COLON_ESCAPE.search(raw))
            _ = needle in echo

    return {
        "json.loads (floor)": lambda: [json.loads(raw) for raw in texts],
        "json.loads with strictness hooks": lambda: [strict_stdlib_loads(raw) for raw in texts],
        "orjson.loads alone": lambda: [loads(raw) for raw in texts],
        "+ indented echo (orjson.dumps)": echo_only,
        "+ 'e+' search (big integers)": with_exponent_check,
        "+ colon counts (duplicate keys)": with_duplicate_check,
        "+ indent search (depth)": with_depth_check,
        "parse_json": lambda: [parse_json(raw) for raw in texts],
        "reference parser (fallback)": lambda: [_parse_reference(raw, DEFAULT_MAX_DEPTH) for raw in texts],
    }


def report(name: str, texts: list[bytes]) -> None:
    rates = best_rates(steps(texts), len(texts), ROUNDS)
    print(f"{name}: {len(texts)} releases, {sum(map(len, texts)) / len(texts) / 1000:.1f} KB each on average")
    for step, per_second in rates.items():
        print(f"  {step:<34}{1e6 / per_second:>9.2f} us")


def main() -> None:
    if CORPUS.is_dir():
        texts = [json.dumps(release, ensure_ascii=False, indent=2).encode() for release in corpus_releases()]
        report("real corpus releases, pretty-printed", [t for t in texts if MIN_BYTES <= len(t) <= MAX_BYTES])
    report(
        "synthetic real-shaped releases",
        [json.dumps(r, ensure_ascii=False).encode() for r in synthetic_releases(200)],
    )


if __name__ == "__main__":
    main()
