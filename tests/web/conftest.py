"""Fixtures for the tests of the web workbench's own code, run under Node."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
TSX = WEB / "node_modules" / ".bin" / "tsx"


@pytest.fixture(scope="session")
def tsx() -> Path:
    """The TypeScript runner from web/node_modules; skips (fails under CI=true) when not installed."""
    if not TSX.exists():
        message = f"web/node_modules is not installed ({TSX} missing): run make setup"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return TSX
