"""Fixtures for the pure core: files of the real OCDS corpus (see tests/conftest.py).

The corpus of real publishers' files lives beside the project (``../shared/ocds-real``
from the project root). Tests that need it skip, not fail, where it is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


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
