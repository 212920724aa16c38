"""Fixtures for the pure core: the real OCDS corpus, when it is there.

The corpus of real publishers' files lives beside the project (``../shared/ocds-real``
from the project root). Tests that need it skip, not fail, where it is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REAL_CORPUS = PROJECT_ROOT.parent / "shared" / "ocds-real"


@pytest.fixture(scope="session")
def ocds_real() -> Path:
    """The real OCDS corpus folder; skips the test when it is not there."""
    if not REAL_CORPUS.is_dir():
        pytest.skip(f"real OCDS corpus not found at {REAL_CORPUS}")
    return REAL_CORPUS


@pytest.fixture(scope="session")
def load_real(ocds_real: Path) -> Callable[[str], Any]:
    """Load one corpus file, by its path relative to the corpus folder, as parsed JSON."""

    def load(relative: str) -> Any:
        return json.loads((ocds_real / relative).read_text(encoding="utf-8"))

    return load


@pytest.fixture(scope="session")
def real_documents(ocds_real: Path) -> list[tuple[str, Any]]:
    """Every non-empty JSON file of the corpus as (relative path, parsed JSON), sorted by path.

    A few corpus files are empty (0 bytes): they are not JSON, which is the byte
    parser's business, not the notice reader's.
    """
    documents = []
    for path in sorted(ocds_real.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        if text.strip():
            documents.append((path.relative_to(ocds_real).as_posix(), json.loads(text)))
    return documents
