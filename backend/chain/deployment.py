"""The deployment file: which chain and contract the backend talks to, and what code it must find there.

The file is handed to auditors, so it holds nothing secret: an RPC URL is kept only
without its userinfo, query string and fragment (where node providers put credentials),
and a URL that cannot be read as one is not kept at all.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backend.errors import ConfigurationError
from backend.redaction import public_rpc_url

DEPLOYMENT_FORMAT = "tenderledger-deployment/1"


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    ledger: str
    code_hash: str
    block_number: int
    block_hash: str
    tx_hash: str
    governance: str
    relayers: list[str]
    compiler: str
    source_hash: str
    deployed_at: str
    rpc_url: str | None = None
    """Where the chain was reached when deploying, credentials removed: a hint for auditors, never used
    to connect (``--rpc-url`` and TENDERLEDGER_RPC_URL are)."""
    format: str = field(default=DEPLOYMENT_FORMAT)

    def __post_init__(self) -> None:
        # Whoever builds a Deployment, what it holds (and so the file) carries no credentials.
        object.__setattr__(self, "rpc_url", public_rpc_url(self.rpc_url))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        if not path.exists():
            raise ConfigurationError(
                f"no deployment file at {path}",
                hint="run 'tenderledger deploy' first (or set TENDERLEDGER_HOME to where it was deployed)",
            )
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except ValueError as exc:
            raise ConfigurationError(f"deployment file {path} is not valid JSON: {exc}") from exc
        if data.get("format") != DEPLOYMENT_FORMAT:
            raise ConfigurationError(
                f"deployment file {path} has format {data.get('format')!r}, expected {DEPLOYMENT_FORMAT}"
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigurationError(f"deployment file {path} is incomplete: {exc}") from exc
