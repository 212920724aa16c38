"""Agency credentials for the REST API's write routes.

A token is shown once, when it is issued; the evidence store keeps only its SHA-256,
so a copy of the database does not hand out working credentials. Looking a token up
hashes what the caller presents and asks for a live (not revoked) row with that hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Final

from backend.store import EvidenceStore

TOKEN_PREFIX: Final = "tl_"  # noqa: S105 - a public prefix, not a secret
"""Marks a string as a tenderledger API token (it helps secret scanners and people)."""

TOKEN_BYTES: Final = 32
"""Random bytes in a token: 256 bits, far beyond guessing."""

_TOKEN_SHAPE: Final = re.compile(r"tl_[A-Za-z0-9_-]{43}")


def issue_token(store: EvidenceStore, agency: str) -> str:
    """A fresh random token for ``agency``; only its SHA-256 is stored. Show it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    store.add_token(agency, token_sha256(token))
    return token


def token_sha256(token: str) -> str:
    """The hex SHA-256 under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_well_formed(token: str) -> bool:
    """Whether ``token`` has the shape of a token this module issues."""
    return _TOKEN_SHAPE.fullmatch(token) is not None


def agency_of_token(store: EvidenceStore, token: str) -> str | None:
    """The agency a live token belongs to; None for an unknown or revoked token."""
    return store.agency_of_token(token_sha256(token))
