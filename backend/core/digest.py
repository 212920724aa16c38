"""Notice digests: SHA-256 over RFC 8785 bytes (releases) or raw bytes (documents).

A digest is what the ledger anchors and what a receipt names, so its scheme is
versioned: ``sha256-jcs/1`` for releases (SHA-256 of the RFC 8785 canonical bytes of
the release object) and ``sha256-raw/1`` for evidence documents (SHA-256 of the file
bytes as they are). Anyone can recompute either with standard tools.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

from backend.core.canonical import canonicalize
from backend.errors import DigestFormatError

RELEASE_DIGEST_SCHEME: Final = "sha256-jcs/1"
"""Scheme of :func:`release_digest`; change it (never the function) to change the digest."""

DOCUMENT_DIGEST_SCHEME: Final = "sha256-raw/1"
"""Scheme of :func:`document_digest`."""

DIGEST_SIZE: Final = 32
"""Bytes in every digest (SHA-256)."""

_HEX_DIGEST = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")


def release_digest(release: Any) -> bytes:
    """32-byte SHA-256 of the RFC 8785 canonical bytes of a release object.

    Raises CanonicalizationError when the release is not a canonicalizable JSON value.
    """
    return hashlib.sha256(canonicalize(release)).digest()


def document_digest(data: bytes) -> bytes:
    """32-byte SHA-256 of an evidence document's raw bytes."""
    return hashlib.sha256(data).digest()


def digest_to_hex(digest: bytes) -> str:
    """The 64 lowercase hexadecimal digits of a 32-byte digest, as receipts show it."""
    if len(digest) != DIGEST_SIZE:
        raise ValueError(f"a digest is {DIGEST_SIZE} bytes, not {len(digest)}")
    return digest.hex()


def digest_from_hex(text: str) -> bytes:
    """The 32-byte digest written as 64 hexadecimal digits, optionally ``0x``-prefixed.

    Either case is accepted, as people copy digests from block explorers and shells.
    Raises DigestFormatError for anything else.
    """
    match = _HEX_DIGEST.fullmatch(text.strip())
    if match is None:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise DigestFormatError(
            f"not a SHA-256 digest: {shown!r}",
            hint="A digest is 64 hexadecimal digits, optionally prefixed with 0x.",
        )
    return bytes.fromhex(match.group(1))
