"""``tenderledger agency``: seal keystores and their registration through governance."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.chain.connect import open_ledger
from backend.chain.sender import TransactionSender
from backend.cli.app import app, console, prompt_password, settings_of
from backend.errors import UsageError
from backend.keys import create_agency_keystore, governance_account, keystore_path, load_agency_key

agency_app = typer.Typer(help="Register agencies and their seal keys.", no_args_is_help=True)
app.add_typer(agency_app, name="agency")


@agency_app.command("add")
def add(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Agency name, unique on the ledger")]
) -> None:
    """Create an encrypted seal keystore for NAME and register agency and key through governance."""
    settings = settings_of(ctx)
    ledger = open_ledger(settings)
    governance = TransactionSender(ledger.w3, governance_account(settings, ledger.deployment.chain_id))
    agency_id = ledger.agency_id(name)
    path = keystore_path(settings, name)
    if agency_id and path.exists():
        key = load_agency_key(settings, name, prompt=prompt_password)
        window = ledger.seal_key(key.address)
        if window.agency == agency_id and window.revoked_block == 0:
            console.print(
                f"agency {name!r} is already registered (id {agency_id}) with seal key {key.address}"
            )
            return
    if agency_id and not path.exists():
        raise UsageError(
            f"agency {name!r} is registered (id {agency_id}) but its keystore is not in {path.parent}",
            hint="copy its keystore there, or register the agency under another name",
        )
    key = (
        load_agency_key(settings, name, prompt=prompt_password)
        if path.exists()
        else create_agency_keystore(settings, name, prompt=prompt_password)
    )
    if not agency_id:
        agency_id = ledger.register_agency(governance, name)
    ledger.add_seal_key(governance, agency_id, key.address)
    console.print(f"agency {name!r} registered as id {agency_id}; seal key {key.address}")
    console.print(f"keystore: {path}")
