"""``tenderledger deploy``: put the ledger on the configured chain and write the deployment file."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.cli.app import RpcUrlOption, app, console, settings_of

DEFAULT_ADMIN_DELAY_S = 86_400
"""The ledger's default (``backend.chain.ledger``), repeated so that ``--help`` imports no web3."""


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Deploy a new ledger even if one is deployed")
    ] = False,
    admin_delay: Annotated[int, typer.Option(help="Seconds before a new governance admin may accept")] = (
        DEFAULT_ADMIN_DELAY_S
    ),
    rpc_url: RpcUrlOption = None,
) -> None:
    """Deploy NoticeLedger; governance gets the admin role, the relayer gets RELAYER_ROLE."""
    from backend.service.governance import deploy_from_settings

    settings = settings_of(ctx, rpc_url=rpc_url)
    done = deploy_from_settings(settings, force=force, admin_delay=admin_delay)
    if done.replaced_because:
        console.print(f"the recorded ledger is not usable ({done.replaced_because}): deploying a new one")
    deployment = done.governance.deployment
    console.print(
        f"NoticeLedger deployed at {deployment.ledger} on chain {deployment.chain_id} "
        f"(block {deployment.block_number})"
    )
    console.print(f"governance {deployment.governance}, relayer {done.relayer}")
    console.print(f"deployment file: {settings.deployment_path}")
