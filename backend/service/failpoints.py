"""Crash points for fault tests: the process dies at a named step, as a power cut would.

``TENDERLEDGER_FAILPOINT=after-write-ahead`` makes the process exit at once (``os._exit``:
no cleanup, no flush, no ``finally``) the first time the dispatcher reaches that step;
``after-broadcast:2`` the second time. Unset, :func:`failpoint` only reads a dictionary.
The steps, in the order one group of notices meets them:

- ``before-write-ahead``: the outbox rows are committed, the transactions simulated and
  signed, nothing is recorded as sent and nothing is broadcast;
- ``after-write-ahead``: the signed transactions are on disk, none is broadcast;
- ``after-broadcast``: the transactions are with the node, no receipt is stored;
- ``after-receipts``: receipts are stored; the run has not yet looked its work up again.

The fault tests (``tests/faults/``) run the real command line with one of these set, then
run it again without, and check that every notice ends up anchored exactly once.
"""

from __future__ import annotations

import os
import sys
from typing import Final

ENV: Final = "TENDERLEDGER_FAILPOINT"
EXIT_STATUS: Final = 99
"""The exit status of a process stopped by a failpoint (distinct from every status the CLI uses)."""

POINTS: Final = frozenset({"before-write-ahead", "after-write-ahead", "after-broadcast", "after-receipts"})

_hits: dict[str, int] = {}


def _armed() -> tuple[str, int] | None:
    value = os.environ.get(ENV)
    if not value:
        return None
    name, _, count = value.partition(":")
    if name not in POINTS:
        raise ValueError(f"{ENV}={value!r}: unknown failpoint (known: {', '.join(sorted(POINTS))})")
    return name, int(count or 1)


def failpoint(name: str) -> None:
    """Exit the process here, at once, when ``TENDERLEDGER_FAILPOINT`` names this step (and hit)."""
    armed = _armed()
    if armed is None or armed[0] != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == armed[1]:
        sys.stderr.write(f"failpoint {name} reached: exiting\n")
        sys.stderr.flush()
        os._exit(EXIT_STATUS)
