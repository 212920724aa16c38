"""Compiled contract artifacts, loaded without any compiler.

``scripts/compile_contracts.py`` writes them; a test checks that they match a fresh
compile. Runtime code on chain differs from the artifact only where the compiler
left immutables (EIP-712's cached domain separator, chain id and address): those
ranges are masked before comparing code hashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from backend.core.hashing import keccak256
from backend.errors import ConfigurationError

LEDGER = "NoticeLedger"
ARTIFACT_FORMAT = "tenderledger-artifact/1"


@dataclass(frozen=True)
class ContractArtifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    immutable_ranges: tuple[tuple[int, int], ...]
    compiler_version: str
    source_hash: str

    @property
    def code_hash(self) -> str:
        """Hash of the runtime code with immutables masked: what deployed code must match."""
        return masked_code_hash(self.deployed_bytecode, self.immutable_ranges)


def masked_code_hash(code: bytes, immutable_ranges: tuple[tuple[int, int], ...]) -> str:
    """0x-prefixed keccak256 of ``code`` with every immutable range zeroed."""
    buffer = bytearray(code)
    for start, length in immutable_ranges:
        buffer[start : start + length] = bytes(length)
    return "0x" + keccak256(bytes(buffer)).hex()


@cache
def load_artifact(name: str = LEDGER) -> ContractArtifact:
    """The committed artifact of contract ``name``."""
    try:
        text = resources.files("backend.chain").joinpath("artifacts", f"{name}.json").read_text("utf-8")
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"no compiled artifact for {name}", hint="run: python scripts/compile_contracts.py"
        ) from exc
    data = json.loads(text)
    if data.get("format") != ARTIFACT_FORMAT:
        raise ConfigurationError(
            f"artifact {name}.json has format {data.get('format')!r}, expected {ARTIFACT_FORMAT}"
        )
    ranges = tuple(
        sorted((ref["start"], ref["length"]) for refs in data["immutableReferences"].values() for ref in refs)
    )
    return ContractArtifact(
        name=name,
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
        immutable_ranges=ranges,
        compiler_version=data["compiler"]["version"],
        source_hash=data["sourceHash"],
    )
