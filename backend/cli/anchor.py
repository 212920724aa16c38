"""``tenderledger anchor``: seal and anchor notices and evidence documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from backend.cli.app import (
    RpcUrlOption,
    app,
    console,
    console_err,
    plural,
    prompt_password,
    report_problems,
    settings_of,
)
from backend.cli.progress import progress_bar
from backend.service.messages import ADVICE

if TYPE_CHECKING:  # the chain's and the store's libraries are imported once there is work
    from backend.service.anchoring import AnchorResult

BATCH_SIZE_HELP = "Notices per Merkle batch root (default 1,024)"


@app.command("anchor")
def anchor(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="FILE|DIR", help="Release, package or record files, documents, or folders"),
    ],
    agency: Annotated[str, typer.Option("--agency", help="Agency whose seal key seals the notices")],
    ocid: Annotated[
        str | None, typer.Option(help="Process of any evidence documents (PDFs, scans) given")
    ] = None,
    allow_invalid: Annotated[
        bool, typer.Option("--allow-invalid", help="Anchor releases that fail the OCDS schema too")
    ] = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch", help="Anchor as Merkle batches: one sealed root per batch, a proof per notice"
        ),
    ] = False,
    batch_size: Annotated[int | None, typer.Option(help=BATCH_SIZE_HELP)] = None,
    label: Annotated[str | None, typer.Option(help="Label sealed with each batch root")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per notice")] = False,
    rpc_url: RpcUrlOption = None,
) -> None:
    """Seal and anchor notices in publication order.

    Idempotent: anchoring a notice again returns its existing receipt. With --batch,
    notices are anchored as RFC 9162 Merkle batches (65 gas per notice at 1,024 per
    root); the ledger's lifecycle rules then do not apply to them, the red flags do.

    Exit status: 0 when every notice is on the ledger, 1 when any was refused, failed the
    schema or is still pending, 2 when an input could not be read, 3 when the chain
    could not be used (the work stays in the outbox for the next run).
    """
    from backend.service.anchoring import AnchorService, Outcome
    from backend.service.context import Backend
    from backend.service.intake import read_paths
    from backend.service.versions import anchor_by_version

    backend = Backend(settings_of(ctx, rpc_url=rpc_url), password_prompt=prompt_password)
    intake = read_paths(paths, ocid=ocid)
    report_problems(intake)
    if not intake.notices:
        console_err.print("error: no notice to anchor")
        raise typer.Exit(2)
    service = AnchorService(backend)
    sizing: dict[str, Any] = {} if batch_size is None else {"batch_size": batch_size}
    with progress_bar("anchoring", len(intake.notices)) as advance:
        results = anchor_by_version(
            service,
            intake,
            agency=agency,
            allow_invalid=allow_invalid,
            batch=batch,
            label=label,
            progress=advance,
            **sizing,
        )
    if as_json:
        for result in results:
            typer.echo(json.dumps(result.to_json(), sort_keys=True))
    else:
        _print_table(results)
    counts = {outcome: sum(r.outcome is outcome for r in results) for outcome in Outcome}
    summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
    console_err.print(f"{plural(len(results), 'notice')}: {summary}")
    if intake.unreadable:
        raise typer.Exit(2)
    if any(r.outcome not in (Outcome.ANCHORED, Outcome.ALREADY_ANCHORED) for r in results):
        raise typer.Exit(1)


def _print_table(results: list[AnchorResult]) -> None:
    from backend.service.anchoring import Outcome

    styles = {
        Outcome.ANCHORED: "green",
        Outcome.ALREADY_ANCHORED: "green",
        Outcome.REFUSED: "red",
        Outcome.INVALID: "red",
        Outcome.PENDING: "yellow",
    }
    for result in results:
        outcome = f"[{styles[result.outcome]}]{result.outcome:<16}[/]"
        # Identifiers and messages come from the notice: escaped, so markup in them is printed as is.
        line = f"{outcome} " + escape(f"{result.stage:<18} {result.ocid} / {result.release_id}")
        if result.receipt:
            anchor = result.receipt.anchor
            line += f"  (block {anchor.block_number}, tx {anchor.tx_hash[:12]}…)"
        if result.outcome is Outcome.REFUSED:
            advice = ADVICE.get(result.error_name or "", result.error or "")
            line += f"\n{'':17}" + escape(f"{result.error_name}: {advice}")
        elif result.outcome is Outcome.INVALID:
            issues = "; ".join(f"{i.path or '/'}: {i.message}" for i in result.schema_issues[:3])
            line += f"\n{'':17}" + escape(f"{result.error}: {issues}")
        console.print(line)
