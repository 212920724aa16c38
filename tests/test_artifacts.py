"""The committed contract artifacts are exactly what the pinned compiler makes of the sources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backend.chain.artifacts import load_artifact

ROOT = Path(__file__).resolve().parent.parent


def test_committed_artifacts_match_a_fresh_compile() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compile_contracts.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "artifacts match a fresh compile" in result.stdout


def test_artifact_records_compiler_and_immutables() -> None:
    artifact = load_artifact()
    assert artifact.compiler_version.startswith("0.8.28+commit.")
    assert artifact.immutable_ranges, "EIP-712 caches its domain in immutables: they must be masked"
    assert artifact.code_hash.startswith("0x") and len(artifact.code_hash) == 66
