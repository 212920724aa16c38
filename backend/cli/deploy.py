"""``tenderledger deploy``: put the ledger on the configured chain and write the deployment file."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.chain.connect import connect, resolve_rpc_url
from backend.chain.deployment import Deployment
from backend.chain.ledger import DEFAULT_ADMIN_DELAY_S, Ledger, deploy_ledger
from backend.chain.sender import TransactionSender
from backend.cli.app import app, console, settings_of
from backend.errors import TenderledgerError, UsageError
from backend.keys import governance_account, relayer_account


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Deploy a new ledger even if one is deployed")
    ] = False,
    admin_delay: Annotated[int, typer.Option(help="Seconds before a new governance admin may accept")] = (
        DEFAULT_ADMIN_DELAY_S
    ),
) -> None:
    """Deploy NoticeLedger; governance gets the admin role, the relayer gets RELAYER_ROLE."""
    settings = settings_of(ctx)
    w3 = connect(settings)
    chain_id = int(w3.eth.chain_id)
    if settings.deployment_path.exists() and not force:
        existing = Deployment.load(settings.deployment_path)
        if existing.chain_id != chain_id:
            raise UsageError(
                f"the deployment file is for chain {existing.chain_id}, this chain is {chain_id}",
                hint="point --rpc-url at that chain, or pass --force to replace the deployment file",
            )
        try:
            Ledger(w3, existing)
        except TenderledgerError as gone:
            console.print(f"the recorded ledger is not usable ({gone.message}): deploying a new one")
        else:
            raise UsageError(
                f"a ledger is already deployed at {existing.ledger} on chain {existing.chain_id}",
                hint="use it, or pass --force to deploy another",
            )
    governance = TransactionSender(w3, governance_account(settings, chain_id))
    relayer = relayer_account(settings, chain_id)
    deployment = deploy_ledger(
        w3, governance, relayers=[relayer.address], admin_delay=admin_delay, rpc_url=resolve_rpc_url(settings)
    )
    deployment.save(settings.deployment_path)
    console.print(
        f"NoticeLedger deployed at {deployment.ledger} on chain {deployment.chain_id} "
        f"(block {deployment.block_number})"
    )
    console.print(f"governance {deployment.governance}, relayer {relayer.address}")
    console.print(f"deployment file: {settings.deployment_path}")
