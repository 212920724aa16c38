"""Pure, deterministic core of tenderledger.

Canonical JSON, digests, OCDS notice parsing, Merkle trees and proofs, seals,
receipts, verdicts and red-flag rules. No I/O: nothing here opens files or
sockets, reads the clock or the environment. Changing what this package emits can
invalidate receipts already handed out, so every format it emits carries a version
and is pinned by golden vectors in ``tests/vectors``.
"""
