"""Hostile input: what every test here checks after a refused request or command.

A refusal must change nothing that matters to the ledger's promises. :class:`LedgerState`
is that "nothing": the NoticeAnchored events on chain, the relayer's nonce (no
transaction was even sent), and every row of the evidence store's outbox and notice
table (nothing was acknowledged). Two snapshots compare equal when nothing changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.store import EvidenceStore
from tests.api.conftest import ApiEnv, serving

ALL_OUTBOX_STATUSES = ("pending", "sent", "anchored", "final", "refused")
PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class LedgerState:
    """What a refused input must leave as it was."""

    anchored_events: int
    relayer_nonce: int
    outbox: tuple[tuple[str, str, str], ...]  # (subject, release id, status) of every row
    stored_notices: int

    @classmethod
    def of(cls, *, events: int, nonce: int, store: EvidenceStore | None) -> LedgerState:
        if store is None:
            return cls(events, nonce, (), 0)
        rows = store.outbox(statuses=ALL_OUTBOX_STATUSES)
        return cls(
            anchored_events=events,
            relayer_nonce=nonce,
            outbox=tuple((r.subject, r.release_id, r.status) for r in rows),
            stored_notices=len(list(store.notice_rows())),
        )

    def chain_unchanged_since(self, before: LedgerState) -> bool:
        """No event, no transaction, and no open outbox work since ``before``.

        What the ledger's own refusal (a conflict, a rule) may leave: the evidence store
        records the attempt as refused, with its bytes, and that is all.
        """
        added = set(self.outbox) - set(before.outbox)
        return (
            self.anchored_events == before.anchored_events
            and self.relayer_nonce == before.relayer_nonce
            and set(before.outbox) <= set(self.outbox)
            and all(status == "refused" for _, _, status in added)
        )


def api_state(api: ApiEnv) -> LedgerState:
    """The ledger state behind a running API."""
    return LedgerState.of(events=api.anchored_events(), nonce=api.relayer_nonce(), store=api.store)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiEnv]:
    """A fresh API over a fresh ledger on the in-process chain, with one agency and its token."""
    with serving(tmp_path / "home") as env:
        yield env


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document of a refusal with ``status``: one clear line, no internals."""
    assert response.status_code == status, f"{response.status_code} (not {status}): {response.text[:500]}"
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    detail = body["detail"]
    assert isinstance(detail, str) and detail.strip(), body
    assert "\n" not in detail, f"the detail is not one line: {detail!r}"
    assert "Traceback" not in response.text and 'File "' not in response.text, response.text
    return body


def names(pattern: str, text: str) -> bool:
    """Whether ``text`` names the problem ``pattern`` describes (case-insensitive regex)."""
    return re.search(pattern, text, re.IGNORECASE) is not None
