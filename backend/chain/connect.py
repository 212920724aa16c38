"""Finding the chain: --rpc-url, TENDERLEDGER_RPC_URL, or the running devnet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend.chain.deployment import Deployment
from backend.chain.devnet import Engine, ManagedDevnet
from backend.errors import ConfigurationError
from backend.settings import Settings

if TYPE_CHECKING:  # web3 costs a second to import: finding the chain's URL needs none of it
    from web3 import Web3

    from backend.chain.ledger import Ledger

HTTP_TIMEOUT_S = 30


def resolve_rpc_url(settings: Settings) -> str:
    """The RPC URL to use: explicit setting first, then a running managed devnet."""
    if settings.rpc_url:
        return settings.rpc_url
    for engine in Engine:
        info = ManagedDevnet(settings.home, engine).status()
        if info is not None:
            return info.rpc_url
    raise ConfigurationError(
        "no chain to talk to",
        hint="start one with 'tenderledger devnet start', or pass --rpc-url / set TENDERLEDGER_RPC_URL",
    )


def web3_for(url: str) -> Web3:
    from web3 import Web3

    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": HTTP_TIMEOUT_S}))


def chain_id_of(w3: Web3) -> int:
    """The chain id the node behind ``w3`` reports."""
    return int(w3.eth.chain_id)


def latest_timestamp(w3: Web3) -> int:
    """The timestamp of the node's latest block: the chain's clock."""
    return int(w3.eth.get_block("latest")["timestamp"])


def connect(settings: Settings) -> Web3:
    return web3_for(resolve_rpc_url(settings))


def open_ledger(settings: Settings, w3: Web3 | None = None) -> Ledger:
    """The deployed ledger, checked: chain id and code must match the deployment file."""
    from backend.chain.ledger import Ledger

    deployment = Deployment.load(settings.deployment_path)
    return Ledger(w3 or connect(settings), deployment)
