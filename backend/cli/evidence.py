"""``tenderledger evidence``: self-proving evidence packages (export, check, capture)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from backend.cli.app import RpcUrlOption, app, console, console_err, plural, settings_of

evidence_app = typer.Typer(
    help="Evidence packages that prove themselves with nothing but Python: export, check, capture.",
    no_args_is_help=True,
)
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("export")
def export(
    ctx: typer.Context,
    targets: Annotated[
        list[str], typer.Argument(help="Notice files, digests (0x + 64 hex digits), or process ocids")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder the packages are written to")] = Path("."),
    lang: Annotated[str, typer.Option("--lang", help="Certificate language: en, es or zh")] = "en",
    workbench_url: Annotated[
        str, typer.Option("--workbench-url", help="Base URL of the workbench the QR code opens")
    ] = "http://127.0.0.1:8000",
    rpc_url: RpcUrlOption = None,
) -> None:
    """One package per notice (evidence-<ocid>-<release id>.zip), one dossier per ocid (dossier-<ocid>.zip).

    Every package is checked before it is written. Exit 2 on bad input (a file with no
    anchored notice, an unknown digest or ocid), 3 when the chain cannot give the proofs.
    """
    from backend.evidence.export import EvidenceExporter
    from backend.service.context import Backend

    backend = Backend(settings_of(ctx, rpc_url=rpc_url))
    try:
        exporter = EvidenceExporter(backend, lang=lang, workbench_url=workbench_url)
        out.mkdir(parents=True, exist_ok=True)
        for target in targets:
            for package in exporter.export(target):
                path = out / package.name
                path.write_bytes(package.data)
                what = "notice" if package.notices == 1 else "notices"
                console.print(
                    f"exported {escape(str(path))}  ({package.notices} {what}, {len(package.data):,} bytes)"
                )
    finally:
        backend.close()


@evidence_app.command("check")
def check(
    packages: Annotated[
        list[Path], typer.Argument(help="Evidence packages (.zip) or their unpacked folders")
    ],
    rpc_url: Annotated[
        str | None,
        typer.Option(
            "--rpc-url", help="Also check that this chain holds each package's block hash at its height"
        ),
    ] = None,
) -> None:
    """Prove each package from its block hash, as verify_evidence.py does, with tenderledger's own code.

    Exit 0 when every package is proven, 1 on a finding (the line names the part that
    failed), 2 when a package cannot be read as one, 3 when --rpc-url cannot be reached.
    """
    from backend.evidence.check import BadPackage, check_online, check_package

    rpc = None
    if rpc_url is not None:
        from backend.evidence.capture import node_at

        rpc = node_at(rpc_url)
    status = 0
    for path in packages:
        try:
            report = check_package(path)
        except BadPackage as exc:
            console_err.print(f"error: {escape(str(path))}: {escape(str(exc))}")
            status = 2
            continue
        console.print(f"[bold]{escape(str(path))}[/]")
        for label, finding in report.results:
            line = f"FAILED   {label}: {finding}" if finding else f"proven   {label}"
            console.print(escape(line))
        online = check_online(report, rpc) if rpc is not None and report.proven else []
        for finding in online:
            console.print(escape(f"FAILED   {finding}"))
        for block_hash, number in sorted(report.trusted.items(), key=lambda kv: kv[1]):
            seen = (
                "the chain at --rpc-url holds it"
                if rpc is not None and not online
                else "compare it with a node"
            )
            console.print(
                f"trusted: block {number} of chain {report.chain_id} has hash {block_hash} ({seen})"
            )
        if (report.findings or online) and status == 0:
            status = 1
    raise typer.Exit(status)


@evidence_app.command("capture")
def capture(ctx: typer.Context, rpc_url: RpcUrlOption = None) -> None:
    """Take the state proof of every stored receipt's anchor not taken yet, while the node still has it.

    Nodes keep the state of recent blocks only (Anvil restarted from saved state: its
    latest), so the storage proofs of an evidence package are taken when anchoring;
    this catches up on anchors made without it. Exit 1 when an anchor could not be proven.
    """
    from backend.evidence.capture import capture_store
    from backend.service.context import Backend

    backend = Backend(settings_of(ctx, rpc_url=rpc_url))
    try:
        count, problems = capture_store(backend)
    finally:
        backend.close()
    console.print(f"took {plural(count, 'state proof')} (one per block and seal key)")
    for problem in problems:
        console_err.print(f"not captured: {escape(problem)}")
    if problems:
        raise typer.Exit(1)
