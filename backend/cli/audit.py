"""``tenderledger audit-store``: the evidence store checked row by row against the chain's events."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from backend.cli.app import RpcUrlOption, app, console, console_err, settings_of
from backend.errors import ConfigurationError, StoreError

if TYPE_CHECKING:
    from backend.service.audit import Discrepancy


@app.command("audit-store")
def audit_store(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per discrepancy, then one summary object")
    ] = False,
    complete: Annotated[
        bool,
        typer.Option(
            "--complete",
            help="This store alone anchors on the ledger: a notice on chain that it lacks is a discrepancy",
        ),
    ] = False,
    rpc_url: RpcUrlOption = None,
) -> None:
    """Rebuild every record from the chain's events and compare the evidence store with them.

    Exit status: 0 when the store matches the chain, 1 when any discrepancy is found,
    2 when there is no evidence store or deployment file, 3 when the chain cannot be used.
    """
    from backend.service.audit import CHAIN_CODES, StoreAudit
    from backend.service.context import Backend

    backend = Backend(settings_of(ctx, rpc_url=rpc_url))
    try:
        store = backend.existing_store()
    except StoreError as error:  # exit 1 is kept for discrepancies
        raise ConfigurationError(error.message, hint=error.hint or None) from error
    if store is None:
        raise ConfigurationError(
            f"no evidence store at {backend.settings.public_store_url}",
            hint="set TENDERLEDGER_HOME (or --home) to the folder the notices were anchored from",
        )
    audit = StoreAudit(backend.ledger, store, complete=complete)
    try:
        for discrepancy in audit.run():
            if as_json:
                typer.echo(json.dumps(discrepancy.to_json(), sort_keys=True, default=str))
            else:
                console.print(describe(discrepancy))
    except StoreError as error:
        raise ConfigurationError(error.message, hint=error.hint or None) from error
    finally:
        backend.close()
    summary = audit.summary
    if as_json:
        typer.echo(json.dumps({"summary": summary.to_json()}, sort_keys=True))
    console_err.print(
        f"{summary.events} notices on chain, {summary.receipts} receipts, {summary.notices} notice rows, "
        f"{summary.documents} documents, {summary.outbox} settled outbox rows audited"
        + (f"; {summary.elsewhere} on chain were anchored elsewhere" if summary.elsewhere else "")
        + (f"; {summary.in_flight} still in flight" if summary.in_flight else "")
    )
    if summary.discrepancies:
        console_err.print(
            f"[bold red]{summary.discrepancies} discrepancies[/]: "
            + ", ".join(f"{n} {code}" for code, n in sorted(summary.codes.items()))
        )
        if any(code in CHAIN_CODES for code in summary.codes):
            console_err.print(
                "  the chain contradicts itself: check the RPC node before trusting the store audit"
            )
        raise typer.Exit(1)
    console_err.print("[green]the evidence store matches the chain[/]")


def describe(d: Discrepancy) -> str:
    """Two lines for people: the code and the row, then what the store says against the chain."""
    from backend.service.audit import MEANINGS

    where = escape(f"{d.table} {d.row}" + (f" {d.field}" if d.field else ""))
    line = f"[bold red]{d.code:<22}[/] {where}\n{'':23}{escape(d.detail or MEANINGS[d.code])}"
    if d.store is not None or d.chain is not None:
        line += f"\n{'':23}store: {escape(_shown(d.store))}  chain: {escape(_shown(d.chain))}"
    return line


def _shown(value: object) -> str:
    return "(nothing)" if value is None else str(value)
