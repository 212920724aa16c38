#!/usr/bin/env python3
"""Static analysis of the ledger contracts with Slither; fails on any high-severity finding.

Slither analyses ``contracts/src`` only. OpenZeppelin (under ``node_modules``) is
compiled with it, as the contracts import it, but a finding that lies wholly inside
a dependency is not ours to fix and is left out; ``contracts/test`` is not compiled
at all. Every medium and low finding on our code is triaged in
docs/static-analysis.md.

How it compiles, and why not through the ``slither`` command:

* The project has a ``foundry.toml``, so Slither's command line would build through
  Forge, starting with ``forge clean`` (which removes the build of anyone running the
  Forge suite at the same time). Here one solc standard-JSON compilation of the
  sources is made instead, with the remappings and EVM version of ``foundry.toml``.
* crytic-compile runs the compiler found as ``solc`` on PATH, whatever ``--solc``
  says. Installing Slither also installs solc-select's ``solc``, which tries to
  download a compiler and hangs without a network. So ``scripts/`` (the wrapper
  around the pinned npm solc) is put first on PATH here, and the run stops before
  compiling if ``solc`` still resolves to anything else.

Usage: ``python scripts/slither_check.py [--fail-on high|medium|low] [--json FILE]``.
Exit status: 0 no finding at or above the threshold, 1 there is one, 2 the analysis
could not run.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import signal
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "contracts" / "src"
SOLC = ROOT / "scripts" / "solc"
FOUNDRY_TOML = ROOT / "foundry.toml"
TRIAGE_DOC = "docs/static-analysis.md"
TIME_LIMIT_S = 300
IMPACTS = ("High", "Medium", "Low", "Informational", "Optimization")


class AnalysisError(Exception):
    """The analysis could not run (exit 2)."""


def use_pinned_solc() -> None:
    """Make ``solc`` on PATH the project's wrapper, and prove it."""
    os.environ["PATH"] = f"{SOLC.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    found = shutil.which("solc")
    if found is None or Path(found).resolve() != SOLC.resolve():
        raise AnalysisError(f"'solc' resolves to {found}, not to the pinned wrapper {SOLC}")


def standard_json_input(folder: Path) -> dict[str, Any]:
    """The solc standard-JSON input: every source in ``folder``, settings from foundry.toml."""
    profile = tomllib.loads(FOUNDRY_TOML.read_text())["profile"]["default"]
    sources = sorted(folder.glob("*.sol"))
    if not sources:
        raise AnalysisError(f"no Solidity sources in {folder}")
    return {
        "language": "Solidity",
        "sources": {str(p.relative_to(ROOT)): {"urls": [str(p.relative_to(ROOT))]} for p in sources},
        "settings": {
            "remappings": list(profile.get("remappings", [])),
            "evmVersion": profile.get("evm_version", "shanghai"),
            "optimizer": {
                "enabled": bool(profile.get("optimizer", False)),
                "runs": int(profile.get("optimizer_runs", 200)),
            },
        },
    }


def run_slither(folder: Path) -> list[dict[str, Any]]:
    """Slither's findings that touch ``folder``, with every detector it ships."""
    from crytic_compile.crytic_compile import CryticCompile
    from crytic_compile.platform.solc_standard_json import SolcStandardJson
    from slither import Slither  # type: ignore[import-untyped]
    from slither.detectors import all_detectors  # type: ignore[import-untyped]
    from slither.detectors.abstract_detector import AbstractDetector  # type: ignore[import-untyped]

    compilation = CryticCompile(SolcStandardJson(standard_json_input(folder)), solc=str(SOLC))
    slither = Slither(
        compilation,
        include_paths=[re.escape(folder.as_posix() + "/")],
        exclude_dependencies=True,
    )
    detectors = [
        d
        for _, d in inspect.getmembers(all_detectors, inspect.isclass)
        if issubclass(d, AbstractDetector) and d is not AbstractDetector
    ]
    for detector in detectors:
        slither.register_detector(detector)
    return [finding for results in slither.run_detectors() for finding in results]


def location(finding: dict[str, Any]) -> str:
    """file#lines of the finding's first element outside the dependencies."""
    for element in finding.get("elements", []):
        mapping = element.get("source_mapping") or {}
        path = Path(mapping.get("filename_absolute", ""))
        if path.is_relative_to(ROOT) and not mapping.get("is_dependency", False):
            lines = mapping.get("lines") or [0]
            span = f"{lines[0]}-{lines[-1]}" if len(lines) > 1 else f"{lines[0]}"
            return f"{path.relative_to(ROOT)}#{span}"
    return "(several files)"


def subject(finding: dict[str, Any]) -> str:
    """What the finding is about, as the triage names it: ``Contract.function`` (or the element's name)."""
    element = (finding.get("elements") or [{}])[0]
    parent = (element.get("type_specific_fields") or {}).get("parent") or {}
    name = str(element.get("name", ""))
    return f"{parent['name']}.{name}" if parent.get("name") else name


def untriaged(findings: list[dict[str, Any]], doc: Path) -> list[dict[str, Any]]:
    """Findings that no line of the triage document names by detector and subject (in backquotes)."""
    lines = doc.read_text().splitlines() if doc.is_file() else []
    return [
        f
        for f in findings
        if not any(f"`{f['check']}`" in line and f"`{subject(f)}`" in line for line in lines)
    ]


def summary_line(finding: dict[str, Any]) -> str:
    """One line: impact, detector, where, and what (without the paths Slither repeats)."""
    text = re.sub(r" \([^()]*\.sol#[0-9-]+\)", "", " ".join(finding["description"].split()))
    return f"  {finding['impact']:<7} {finding['check']:<19} {location(finding)}: {text[:150]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fail-on", choices=("high", "medium", "low"), default="high")
    parser.add_argument("--json", type=Path, help="also write the findings to this file")
    parser.add_argument(
        "--sources",
        type=Path,
        default=SOURCES,
        help="folder of the contracts to analyse (default: contracts/src)",
    )
    args = parser.parse_args(argv)
    folder = args.sources.resolve()
    if not folder.is_relative_to(ROOT):
        parser.error("--sources must be a folder inside the project (the compiler reads only from there)")
    failing = IMPACTS[: IMPACTS.index(args.fail_on.capitalize()) + 1]

    def out_of_time(_signum: int, _frame: FrameType | None) -> None:
        raise AnalysisError(f"no result after {TIME_LIMIT_S} s (is the compiler waiting on something?)")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(TIME_LIMIT_S)
    started = time.monotonic()
    os.chdir(ROOT)  # Slither reports and filters paths relative to the working directory
    try:
        use_pinned_solc()
        findings = run_slither(folder)
    except AnalysisError as exc:
        print(f"slither: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # crytic-compile and Slither raise their own assorted errors
        print(f"slither: the analysis failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)

    findings.sort(key=lambda f: (IMPACTS.index(f["impact"]), f["check"], location(f)))
    counts = Counter(f["impact"] for f in findings)
    elapsed = time.monotonic() - started
    print(
        f"slither on {folder.relative_to(ROOT)} ({elapsed:.1f} s): "
        + ", ".join(f"{counts.get(i, 0)} {i.lower()}" for i in IMPACTS if i != "Optimization")
        + (f", {counts['Optimization']} optimization" if counts.get("Optimization") else "")
    )
    for finding in findings:
        if finding["impact"] != "Informational":
            print(summary_line(finding))
    if args.json is not None:
        args.json.write_text(json.dumps(findings, indent=1, sort_keys=True, default=str))
    blocking = [f for f in findings if f["impact"] in failing]
    if blocking:
        print(f"slither: {len(blocking)} finding(s) at or above {args.fail_on} severity: fix them")
        return 1
    if folder == SOURCES.resolve():
        # Every medium and low finding on the ledger must have a verdict in the triage.
        missing = untriaged([f for f in findings if f["impact"] in ("Medium", "Low")], ROOT / TRIAGE_DOC)
        if missing:
            for finding in missing:
                print(
                    f"slither: not triaged: `{finding['check']}` `{subject(finding)}` ({finding['impact']})"
                )
            print(f"slither: fix these, or add a row with a verdict for each to {TRIAGE_DOC}")
            return 1
    print(f"no {args.fail_on}-severity finding; every medium and low one is triaged in {TRIAGE_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
