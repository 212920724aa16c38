"""Notice digests: SHA-256 over RFC 8785 bytes (releases) or raw bytes (documents)."""

from __future__ import annotations

import hashlib
from typing import Any

from backend.core.canonical import canonicalize


def release_digest(release: Any) -> bytes:
    """32-byte SHA-256 of the RFC 8785 canonical bytes of a release object."""
    return hashlib.sha256(canonicalize(release)).digest()


def document_digest(data: bytes) -> bytes:
    """32-byte SHA-256 of an evidence document's raw bytes."""
    return hashlib.sha256(data).digest()
