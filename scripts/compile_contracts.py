#!/usr/bin/env python3
"""Compile the ledger contracts into the artifacts the backend loads.

The backend never needs a compiler: it reads ABI and bytecode from the committed
artifacts in ``backend/chain/artifacts/``. This script rebuilds them through
py-solc-x's ``compile_standard`` with the pinned npm solc (via ``scripts/solc``).

    python scripts/compile_contracts.py           # write the artifacts
    python scripts/compile_contracts.py --check   # exit 1 if they differ from a fresh compile
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import solcx

ROOT = Path(__file__).resolve().parent.parent
SOLC = ROOT / "scripts" / "solc"
SOURCE_DIR = ROOT / "contracts" / "src"
ARTIFACT_DIR = ROOT / "backend" / "chain" / "artifacts"

# The one EVM version that Anvil, Ganache 7.9 (up to shanghai) and py-evm all run.
EVM_VERSION = "shanghai"
OPTIMIZER_RUNS = 1_000_000
# Contracts whose artifacts the backend loads.
TARGETS = ("NoticeLedger",)
ARTIFACT_FORMAT = "tenderledger-artifact/1"


def standard_input() -> dict[str, Any]:
    sources = {
        f"contracts/src/{path.name}": {"content": path.read_text(encoding="utf-8")}
        for path in sorted(SOURCE_DIR.glob("*.sol"))
    }
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "evmVersion": EVM_VERSION,
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "metadata": {"bytecodeHash": "ipfs"},
            "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
            "outputSelection": {
                "*": {
                    "*": [
                        "abi",
                        "metadata",
                        "evm.bytecode.object",
                        "evm.deployedBytecode.object",
                        "evm.deployedBytecode.immutableReferences",
                        "evm.methodIdentifiers",
                    ]
                }
            },
        },
    }


def compiler_version() -> str:
    version = solcx.wrapper.get_solc_version(SOLC, with_commit_hash=True)
    return str(version)


def source_hash(metadata: dict[str, Any]) -> str:
    """SHA-256 over every source the compiler read (ours and OpenZeppelin's), by path."""
    digest = hashlib.sha256()
    for path in sorted(metadata["sources"]):
        digest.update(path.encode())
        digest.update(b"\0")
        digest.update(metadata["sources"][path]["keccak256"].encode())
        digest.update(b"\n")
    return digest.hexdigest()


def build_artifacts() -> dict[str, dict[str, Any]]:
    data = standard_input()
    output = solcx.compile_standard(data, base_path=str(ROOT), solc_binary=SOLC)
    version = compiler_version()
    artifacts: dict[str, dict[str, Any]] = {}
    for path, contracts in output["contracts"].items():
        for name, compiled in contracts.items():
            if name not in TARGETS:
                continue
            metadata = json.loads(compiled["metadata"])
            artifacts[name] = {
                "format": ARTIFACT_FORMAT,
                "contractName": name,
                "sourceName": path,
                "compiler": {
                    "version": version,
                    "evmVersion": EVM_VERSION,
                    "optimizer": data["settings"]["optimizer"],
                },
                "sourceHash": source_hash(metadata),
                "abi": compiled["abi"],
                "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                "immutableReferences": compiled["evm"]["deployedBytecode"].get("immutableReferences", {}),
                "methodIdentifiers": compiled["evm"]["methodIdentifiers"],
            }
    missing = set(TARGETS) - set(artifacts)
    if missing:
        raise SystemExit(f"compile produced no artifact for {sorted(missing)}")
    return artifacts


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed artifacts instead of writing them"
    )
    args = parser.parse_args(argv)

    artifacts = build_artifacts()
    stale = []
    for name, artifact in artifacts.items():
        target = ARTIFACT_DIR / f"{name}.json"
        text = render(artifact)
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.relative_to(ROOT))
        else:
            ARTIFACT_DIR.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)} (solc {artifact['compiler']['version']})")
    if stale:
        for path in stale:
            print(
                f"stale artifact: {path} differs from a fresh compile; run scripts/compile_contracts.py",
                file=sys.stderr,
            )
        return 1
    if args.check:
        print(f"artifacts match a fresh compile: {', '.join(sorted(artifacts))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
