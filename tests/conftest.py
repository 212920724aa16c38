"""Fixtures shared by every suite: the real OCDS corpus, when it is there.

The corpus of real publishers' files lives beside the project (``../shared/ocds-real``
from the project root). Tests that need it skip, not fail, where it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_CORPUS = PROJECT_ROOT.parent / "shared" / "ocds-real"


@pytest.fixture(scope="session")
def ocds_real() -> Path:
    """The real OCDS corpus folder; skips the test when it is not there."""
    if not REAL_CORPUS.is_dir():
        pytest.skip(f"real OCDS corpus not found at {REAL_CORPUS}")
    return REAL_CORPUS
