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
from backend.errors import ConfigurationError, DeploymentMismatchError

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


def check_deployed_code(
    artifact: ContractArtifact,
    *,
    chain_id: int,
    address: str,
    code: bytes,
    expected_chain_id: int,
    expected_code_hash: str,
) -> None:
    """Refuse a chain id or deployed code that does not match the deployment file and ``artifact``:
    the one check, whether the chain is read through web3 or raw JSON-RPC."""
    if chain_id != expected_chain_id:
        raise DeploymentMismatchError(
            f"chain id {chain_id} does not match the deployment file ({expected_chain_id})",
            hint="point --rpc-url at the chain the ledger was deployed to, or deploy again",
        )
    if not code:
        raise DeploymentMismatchError(
            f"no contract at {address} on chain {chain_id}",
            hint="the chain was reset or is another one: run 'tenderledger deploy' again",
        )
    found = masked_code_hash(code, artifact.immutable_ranges)
    if found != expected_code_hash:
        raise DeploymentMismatchError(
            f"code at {address} differs from the deployment file (code hash {found})",
            hint="this is not the ledger that was deployed; do not trust answers from it",
        )
    if found != artifact.code_hash:
        raise DeploymentMismatchError(
            f"code at {address} differs from this version's NoticeLedger artifact",
            hint="the ledger was deployed from another version of the contract",
        )
