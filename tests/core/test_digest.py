"""Notice digests: pinned by golden vectors, blind to layout, sensitive to content."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from backend.core.canonical import canonicalize
from backend.core.digest import (
    DIGEST_SIZE,
    DOCUMENT_DIGEST_SCHEME,
    RELEASE_DIGEST_SCHEME,
    digest_from_hex,
    digest_to_hex,
    document_digest,
    release_digest,
)
from backend.core.jsontext import parse_json
from backend.errors import CanonicalizationError, DigestFormatError, InputError

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "digests.json").read_text(encoding="ascii"))


def test_the_schemes_are_the_ones_the_vectors_pin() -> None:
    # Changing a scheme's meaning would invalidate every receipt already handed out.
    assert RELEASE_DIGEST_SCHEME == VECTORS["release_digest_scheme"] == "sha256-jcs/1"
    assert DOCUMENT_DIGEST_SCHEME == VECTORS["document_digest_scheme"] == "sha256-raw/1"


@pytest.mark.parametrize("vector", VECTORS["releases"], ids=lambda vector: vector["name"])
def test_release_digest_vectors(vector: dict[str, str]) -> None:
    release = parse_json(vector["json"])
    assert canonicalize(release) == vector["canonical"].encode("utf-8")
    digest = release_digest(release)
    assert len(digest) == DIGEST_SIZE
    assert digest.hex() == vector["sha256"]


@pytest.mark.parametrize("vector", VECTORS["documents"], ids=lambda vector: vector["sha256"][:8])
def test_document_digest_vectors(vector: dict[str, str]) -> None:
    assert document_digest(bytes.fromhex(vector["bytes_hex"])).hex() == vector["sha256"]


RELEASE: dict[str, Any] = {
    "ocid": "ocds-213czf-000-00001",
    "id": "ocds-213czf-000-00001-01-tender",
    "date": "2010-03-15T09:30:00Z",
    "tag": ["tender"],
    "tender": {"value": {"amount": 1500000.0, "currency": "PYG"}, "title": "Adquisición de vehículos"},
}


def test_key_order_whitespace_and_escapes_do_not_change_a_release_digest() -> None:
    layouts = [
        json.dumps(RELEASE),
        json.dumps(RELEASE, indent=4, sort_keys=True, ensure_ascii=True),
        json.dumps(dict(reversed(list(RELEASE.items()))), separators=(",", ":"), ensure_ascii=False),
    ]
    digests = {release_digest(parse_json(text)) for text in layouts}
    assert digests == {hashlib.sha256(rfc8785.dumps(RELEASE)).digest()}


def test_an_integral_amount_has_one_digest_however_it_is_written() -> None:
    # JCS reads numbers as doubles: 1500000, 1500000.0 and 1.5e6 are one number.
    written = ['{"amount": 1500000}', '{"amount": 1500000.0}', '{"amount": 1.5e6}']
    assert len({release_digest(parse_json(text)) for text in written}) == 1


def changed_somewhere(value: Any, data: st.DataObject) -> Any:
    """A copy of ``value`` with one leaf replaced by a different value."""
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        return {**value, key: changed_somewhere(value[key], data)}
    if isinstance(value, list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], changed_somewhere(value[index], data), *value[index + 1 :]]
    if isinstance(value, str):
        return value + data.draw(st.characters(codec="utf-8"))
    if isinstance(value, float):
        return value * 2 + 1
    return ["was", value]


@given(st.data())
def test_any_change_of_content_changes_the_release_digest(data: st.DataObject) -> None:
    changed = changed_somewhere(RELEASE, data)
    assert release_digest(changed) != release_digest(RELEASE)


def test_a_release_that_cannot_be_canonicalized_has_no_digest() -> None:
    with pytest.raises(CanonicalizationError):
        release_digest({"tender": {"value": {"amount": float("nan")}}})


def test_a_document_digest_is_over_the_raw_bytes() -> None:
    # A document is evidence as it is: re-encoding it (here, adding a BOM) changes its digest.
    text = '{"a": 1}'
    assert document_digest(text.encode()) != document_digest(b"\xef\xbb\xbf" + text.encode())
    assert document_digest(text.encode()) == hashlib.sha256(b'{"a": 1}').digest()


# ---------------------------------------------------------------- hex


@given(st.binary(min_size=DIGEST_SIZE, max_size=DIGEST_SIZE))
def test_digests_round_trip_through_hex(digest: bytes) -> None:
    text = digest_to_hex(digest)
    assert text == text.lower()
    assert len(text) == 64
    assert digest_from_hex(text) == digest
    assert digest_from_hex("0x" + text.upper()) == digest
    assert digest_from_hex(f"  {text}\n") == digest


@pytest.mark.parametrize(
    "text",
    ["", "0x", "ab" * 31, "ab" * 33, "g" + "a" * 63, "0X" + "a" * 64, "a" * 63 + " ", "sha256:" + "a" * 64],
)
def test_anything_but_64_hex_digits_is_not_a_digest(text: str) -> None:
    with pytest.raises(DigestFormatError, match="not a SHA-256 digest") as caught:
        digest_from_hex(text)
    assert isinstance(caught.value, InputError)
    assert "64 hexadecimal digits" in caught.value.hint


@pytest.mark.parametrize("size", [0, 31, 33])
def test_only_32_byte_digests_have_a_hex_form(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        digest_to_hex(bytes(size))
