"""``tenderledger verify``: one verdict per notice, from the chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from backend.cli.app import app, console, console_err, settings_of
from backend.cli.progress import progress_bar
from backend.core.verdict import Status, Verdict
from backend.errors import UsageError
from backend.service.context import Backend
from backend.service.intake import JSON_SUFFIXES, Intake, expand_paths, read_bytes
from backend.service.verification import Subject, VerifyService, document_subject, subjects_of


def read_subjects(paths: list[Path]) -> tuple[list[Subject], Intake]:
    """Subjects in the order of the files given; documents are looked up by digest."""
    intake = Intake()
    subjects: list[Subject] = []
    for path in expand_paths(paths):
        try:
            data = path.read_bytes()
        except OSError as exc:
            from backend.service.intake import InputProblem

            intake.problems.append(InputProblem(str(path), f"cannot read: {exc.strerror}", fatal=True))
            continue
        if path.suffix.lower() in JSON_SUFFIXES:
            part = Intake()
            read_bytes(data, name=str(path), ocid=None, intake=part, keep_bytes=False)
            intake.problems.extend(part.problems)
            subjects.extend(subjects_of(part))
        else:
            subjects.append(document_subject(data, name=str(path)))
    return subjects, intake


@app.command("verify")
def verify(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="Notices (releases, packages, records), documents, or folders")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per notice")] = False,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Ignore the evidence store (no field diffs, no batch proofs)")
    ] = False,
) -> None:
    """Verify notices against the chain.

    Exit status: 0 when every notice is anchored or superseded, 1 when any is not,
    2 on usage errors or unreadable input.
    """
    try:
        subjects, intake = read_subjects(paths)
    except UsageError:
        raise
    for problem in intake.problems:
        console_err.print(f"{'error' if problem.fatal else 'skipped'}: {problem.source}: {problem.message}")
    if intake.unreadable and not subjects:
        raise typer.Exit(2)
    backend = Backend(settings_of(ctx))
    service = VerifyService(backend, store=None if no_store else backend.existing_store())
    verdicts: list[Verdict] = []
    with progress_bar("verifying", len(subjects)) as advance:
        for verdict in service.verify(subjects):
            advance(1)
            if as_json:
                typer.echo(json.dumps(verdict.to_json(), sort_keys=True))
            verdicts.append(verdict)
    if not as_json:
        _print_table(verdicts)
    counts = {s: sum(v.status is s for v in verdicts) for s in Status}
    console_err.print(f"{len(verdicts)} notices: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    if intake.unreadable:
        raise typer.Exit(2)
    if not all(v.status.passes for v in verdicts):
        raise typer.Exit(1)


def _when(timestamp: int | None) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ") if timestamp else ""


STYLES = {
    Status.ANCHORED: "green",
    Status.SUPERSEDED: "yellow",
    Status.TAMPERED: "bold red",
    Status.NOT_ANCHORED: "red",
    Status.INVALID_SEAL: "bold red",
}


def describe(v: Verdict) -> str:
    """One line for people: status, what, who and when, and why it matters."""
    line = f"[{STYLES[v.status]}]{v.status:<12}[/] {v.stage:<18} {v.ocid} / {v.release_id}"
    if v.block_number is not None:
        who = v.agency_name or v.agency
        line += f"\n{'':13}sealed by {who}, block {v.block_number}, {_when(v.block_timestamp)}"
    if v.status is Status.TAMPERED:
        line += f"\n{'':13}" + ("changed: " + ", ".join(v.changed) if v.changed else "; ".join(v.notes))
    elif v.status is Status.SUPERSEDED:
        line += f"\n{'':13}superseded by " + ", ".join(v.superseded_by)
    elif v.notes:
        line += f"\n{'':13}" + "; ".join(v.notes)
    return line


def _print_table(verdicts: list[Verdict]) -> None:
    for verdict in verdicts:
        console.print(describe(verdict))
