"""Keccak-256 (Ethereum's pre-standard SHA-3), from the fastest backend available."""

from __future__ import annotations

from collections.abc import Callable

_keccak: Callable[[bytes], bytes]
try:  # safe-pysha3: C implementation, several times faster than the pure fallbacks
    import sha3 as _sha3

    def _keccak(data: bytes) -> bytes:
        digest: bytes = _sha3.keccak_256(data).digest()
        return digest

except ImportError:  # pragma: no cover - exercised only where safe-pysha3 is missing
    from eth_hash.auto import keccak as _eth_keccak

    def _keccak(data: bytes) -> bytes:
        return bytes(_eth_keccak(data))


def keccak256(data: bytes) -> bytes:
    """32-byte Keccak-256 digest of ``data``."""
    return _keccak(data)
