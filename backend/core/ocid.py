"""OCDS ocid prefixes: who may open a process under which ocids.

An OCDS ocid is ``<scheme>-<publisher>-<local id>``, for example
``ocds-213czf-000-00001``: the first two hyphen-separated parts name the publisher, and
the OCDS registry gives each publisher its own. Governance reserves such a prefix for an
agency on the ledger; the contract then refuses a process under it opened by anyone else.
Prefixes are compared case-insensitively (real data has ``OCDS-87SD3T-…``), exactly as
the contract's ``ocidPrefixHash`` does: this module is its Python twin.
"""

from __future__ import annotations

import re
from typing import Final

from backend.core.hashing import keccak256

MAX_PREFIX_BYTES: Final = 64
_PREFIX: Final = re.compile(r"[^-]+-[^-]+")


class OcidPrefixError(ValueError):
    """Text that is not an ocid prefix of the form ``scheme-publisher``."""


def _ascii_lower(text: str) -> str:
    """``text`` with A-Z lowered and nothing else touched, as the contract lowers bytes."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def normalize_ocid_prefix(prefix: str) -> str:
    """``prefix`` as the ledger stores it: lowercase ASCII, no trailing hyphen.

    Raises OcidPrefixError unless it reads ``scheme-publisher`` (one inner hyphen).
    """
    text = prefix.strip()
    text = text[:-1] if text.endswith("-") else text
    lowered = _ascii_lower(text)
    if not _PREFIX.fullmatch(lowered) or not 3 <= len(lowered.encode()) <= MAX_PREFIX_BYTES:
        raise OcidPrefixError(
            f"{prefix!r} is not an ocid prefix: expected scheme-publisher, e.g. ocds-213czf"
        )
    return lowered


def ocid_prefix(ocid: str) -> str | None:
    """The reserved-prefix part of ``ocid`` (lowercased, up to its second hyphen), or None."""
    parts = ocid.split("-", 2)
    if len(parts) < 3:
        return None
    return _ascii_lower(parts[0] + "-" + parts[1])


def ocid_prefix_hash(ocid: str) -> bytes:
    """The contract's ``ocidPrefixHash(ocid)``: keccak256 of :func:`ocid_prefix`, or 32 zero bytes."""
    prefix = ocid_prefix(ocid)
    return keccak256(prefix.encode()) if prefix is not None else bytes(32)
