"""docs/threat-model.md and docs/static-analysis.md name only tests that exist, and every audit code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.service.findings import AuditCode

ROOT = Path(__file__).resolve().parents[1]
THREAT_MODEL = ROOT / "docs" / "threat-model.md"
STATIC_ANALYSIS = ROOT / "docs" / "static-analysis.md"
TEST_NAME = re.compile(r"`((?:test|testFuzz|invariant)_\w+)`")


def defined_tests() -> set[str]:
    """pytest functions under tests/ and Forge tests and invariants under contracts/test/."""
    python = {
        name
        for path in (ROOT / "tests").rglob("test_*.py")
        for name in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    forge = {
        name
        for path in (ROOT / "contracts" / "test").rglob("*.sol")
        for name in re.findall(
            r"^\s*function ((?:test|testFuzz|invariant)_\w+)\(",
            path.read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    }
    return python | forge


@pytest.mark.parametrize("doc", [THREAT_MODEL, STATIC_ANALYSIS], ids=lambda path: path.name)
def test_every_test_named_in_the_security_docs_exists(doc: Path) -> None:
    named = set(TEST_NAME.findall(doc.read_text(encoding="utf-8")))
    assert len(named) >= 5
    assert sorted(named - defined_tests()) == []


def test_every_audit_code_is_in_the_threat_models_table() -> None:
    text = THREAT_MODEL.read_text(encoding="utf-8")
    assert [code.value for code in AuditCode if f"| `{code.value}` |" not in text] == []
