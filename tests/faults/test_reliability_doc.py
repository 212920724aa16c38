"""docs/reliability.md names only tests that exist, and names every fault test."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELIABILITY = ROOT / "docs" / "reliability.md"
CODE_SPAN = re.compile(r"`([^`]+)`")
TEST_NAME = re.compile(r"\b(test_\w+)\b(?!\.py)")


def _defined(folder: Path) -> set[str]:
    return {
        name
        for path in folder.rglob("test_*.py")
        for name in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    }


def _named() -> set[str]:
    text = RELIABILITY.read_text(encoding="utf-8")
    return {name for span in CODE_SPAN.findall(text) for name in TEST_NAME.findall(span)}


def test_every_test_named_in_the_reliability_report_exists() -> None:
    named = _named()
    assert len(named) >= 40
    assert sorted(named - _defined(ROOT / "tests")) == []


def test_every_fault_test_is_in_the_reliability_report() -> None:
    faults = _defined(Path(__file__).parent) - _defined_here()
    assert sorted(faults - _named()) == []


def _defined_here() -> set[str]:
    return set(re.findall(r"^def (test_\w+)", Path(__file__).read_text(encoding="utf-8"), re.MULTILINE))
