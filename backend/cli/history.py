"""``tenderledger history``: the timeline of a process, from the chain."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from backend.cli.app import RpcUrlOption, app, console, plural, settings_of, when
from backend.service.messages import ADVICE

if TYPE_CHECKING:
    from backend.core.redflags import RedFlag


@app.command("history")
def history(
    ctx: typer.Context,
    ocid: Annotated[str, typer.Argument(help="Open Contracting ID of the process")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as one JSON document")] = False,
    rpc_url: RpcUrlOption = None,
) -> None:
    """The process timeline from the chain, and its red flags. Exit 1 when the ledger has no notice of it."""
    from backend.service.context import Backend
    from backend.service.history import process_history

    backend = Backend(settings_of(ctx, rpc_url=rpc_url))
    result = process_history(backend, ocid, store=backend.existing_store())
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        # Identifiers come from the chain: escaped, so markup in them is printed as written.
        console.print(f"[bold]{escape(ocid)}[/]: {plural(len(result.entries), 'notice')}")
        for entry in result.entries:
            where = f"block {entry.block_number}, {when(entry.block_timestamp)}" if entry.block_number else ""
            deadline = f", deadline {when(entry.deadline)}" if entry.deadline else ""
            style = "green" if entry.status == "anchored" else "red"
            what = escape(f"{entry.stage.tag:<18} {entry.release_id}")
            console.print(f"  [{style}]{entry.status:<10}[/] {what}")
            detail = f"{entry.error}: {ADVICE.get(entry.error, '')}" if entry.error else f"{where}{deadline}"
            console.print(f"  {'':10} " + escape(f"{entry.agency_name or ''}, {detail}"))
        for line in flag_lines(result.flags):
            console.print(line)
    if not result.entries:
        raise typer.Exit(1)


def flag_lines(flags: list[RedFlag], *, detail_limit: int = 3) -> list[str]:
    """Red flags grouped by rule: each rule's first few findings, then a count of the rest."""
    lines: list[str] = []
    by_code: dict[str, list[RedFlag]] = {}
    for flag in flags:
        by_code.setdefault(str(flag.code), []).append(flag)
    for code, group in by_code.items():
        lines.append(f"[yellow]red flag[/] {code} ({group[0].severity}), {plural(len(group), 'notice')}")
        lines.extend("    " + escape(f"{flag.release_id}: {flag.message}") for flag in group[:detail_limit])
        if len(group) > detail_limit:
            lines.append(f"    ... and {len(group) - detail_limit} more")
    return lines
