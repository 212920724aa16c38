"""The behaviour tables in docs/ name every code and only tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.core.notice import SkipCode
from backend.core.redflags import FlagCode
from backend.core.release_stage import TAG_SYNONYMS

ROOT = Path(__file__).resolve().parents[2]
MESSY = ROOT / "docs" / "messy-data.md"
RED_FLAGS = ROOT / "docs" / "red-flags.md"


def test_every_skip_code_and_synonym_is_documented() -> None:
    text = MESSY.read_text(encoding="utf-8").lower()
    assert [code for code in SkipCode if f"`{code.value}`" not in text] == []
    assert [tag for tag in TAG_SYNONYMS if f"`{tag}`" not in text] == []


def test_every_red_flag_code_is_documented() -> None:
    text = RED_FLAGS.read_text(encoding="utf-8")
    assert [code for code in FlagCode if f"| `{code.value}` |" not in text] == []


@pytest.mark.parametrize("doc", [MESSY, RED_FLAGS], ids=lambda path: path.name)
def test_every_test_named_in_the_docs_exists(doc: Path) -> None:
    defined = {
        name
        for path in (ROOT / "tests").rglob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    named = set(re.findall(r"`(?:[\w./]+::)?(test_\w+)`", doc.read_text(encoding="utf-8")))
    assert named
    assert sorted(named - defined) == []
