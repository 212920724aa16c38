"""``tenderledger agency token NAME``: an API credential for an agency's write routes."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.cli.agency import agency_app
from backend.cli.app import console_err, settings_of
from backend.errors import UsageError
from backend.keys import keystore_path
from backend.service.context import Backend
from backend.service.tokens import issue_token


@agency_app.command("token")
def token(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Agency the token acts for")]) -> None:
    """Create an API token for NAME and print it once; only its SHA-256 is stored.

    The token lets the REST API seal and anchor notices with NAME's seal key, so the
    agency needs a keystore here ('tenderledger agency add NAME').
    """
    settings = settings_of(ctx)
    if not keystore_path(settings, name).exists():
        raise UsageError(
            f"agency {name!r} has no seal keystore in {settings.keystore_dir}",
            hint=f"run 'tenderledger agency add {name!r}' first",
        )
    backend = Backend(settings)
    try:
        secret = issue_token(backend.store, name)
    finally:
        backend.close()
    console_err.print(
        f"API token for {name!r} (shown once, keep it secret; send it as 'Authorization: Bearer ...'):"
    )
    typer.echo(secret)
