"""``tenderledger agency token NAME [--revoke] [--days N]``: API credentials for an agency's write routes."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.cli.agency import agency_app
from backend.cli.app import RpcUrlOption, console_err, prompt_password, settings_of
from backend.service.tokens import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS


@agency_app.command("token")
def token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Agency the token acts for, exactly as registered")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Revoke every live token of NAME instead of issuing one")
    ] = False,
    days: Annotated[
        int,
        typer.Option(
            "--days", min=1, max=MAX_TOKEN_DAYS, help=f"Days the token lives (default {DEFAULT_TOKEN_DAYS})"
        ),
    ] = DEFAULT_TOKEN_DAYS,
    rpc_url: RpcUrlOption = None,
) -> None:
    """Create an API token for NAME and print it once (only its SHA-256 is stored), or revoke NAME's tokens.

    NAME must be registered on the ledger exactly so, with a keystore here that names it
    and holds its live seal key: the token lets the REST API seal with that key.
    """
    from backend.service.context import Backend
    from backend.service.governance import issue_agency_token, revoke_agency_tokens

    backend = Backend(settings_of(ctx, rpc_url=rpc_url), password_prompt=prompt_password)
    try:
        if revoke:
            revoked = revoke_agency_tokens(backend.store, name)
            console_err.print(
                f"revoked {revoked} token(s) of {name!r}" if revoked else f"{name!r} has no live token"
            )
            return
        issued = issue_agency_token(backend, name, days=days, prompt=prompt_password)
    finally:
        backend.close()
    console_err.print(
        f"API token for {issued.agency!r} (agency {issued.agency_id}), valid until "
        f"{issued.expires_at:%Y-%m-%d %H:%M}Z; shown once, keep it secret; send it as "
        "'Authorization: Bearer ...':"
    )
    typer.echo(issued.secret)
