"""The typer application, its global options and shared helpers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backend.errors import KeystoreError
from backend.settings import Settings

app = typer.Typer(
    name="tenderledger",
    help="Seal and anchor public-procurement notices on an EVM chain; verify them later.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False, soft_wrap=True)
console_err = Console(stderr=True, highlight=False, soft_wrap=True)


@app.callback()
def configure(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option(help="State folder (default: $TENDERLEDGER_HOME or ./.tenderledger)")
    ] = None,
    rpc_url: Annotated[
        str | None, typer.Option(help="JSON-RPC endpoint (default: the running devnet)")
    ] = None,
) -> None:
    overrides: dict[str, object] = {}
    if home is not None:
        overrides["home"] = home
    if rpc_url is not None:
        overrides["rpc_url"] = rpc_url
    ctx.obj = Settings(**overrides)  # type: ignore[arg-type]


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


def prompt_password(text: str, confirm: bool) -> str:
    """Ask for a password on the terminal (used when neither the agency's own variable,
    TENDERLEDGER_KEY_PASSWORD_<AGENCY>, nor the shared TENDERLEDGER_KEY_PASSWORD is set)."""
    if not sys.stdin.isatty():
        raise KeystoreError(
            f"{text[0].lower()}{text[1:]} is needed and there is no terminal to ask on",
            hint="set TENDERLEDGER_KEY_PASSWORD_<AGENCY> (the agency's name upper-cased, other "
            "characters as _) or the shared TENDERLEDGER_KEY_PASSWORD",
        )
    value: str = typer.prompt(text, hide_input=True, confirmation_prompt=confirm)
    return value
