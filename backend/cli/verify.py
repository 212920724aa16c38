"""``tenderledger verify``: one verdict per notice, from the chain."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from backend.cli.app import (
    RpcUrlOption,
    app,
    console,
    console_err,
    plural,
    report_problems,
    settings_of,
    when,
)
from backend.cli.progress import progress_bar

if TYPE_CHECKING:  # the chain's and the store's libraries are imported once there is work
    from backend.core.verdict import Verdict
    from backend.service.intake import Intake
    from backend.service.verification import Subject, VerifyService


def iter_subjects(files: Iterable[Path], intake: Intake) -> Iterator[Subject]:
    """Subjects file by file, in the order given; documents are looked up by digest.

    A generator, so that a folder of a hundred thousand notices is never all in memory:
    each file is read when its turn comes. Problems are recorded on ``intake``.
    """
    from backend.service.intake import JSON_SUFFIXES, load_file
    from backend.service.verification import subjects_of_bytes

    for path in files:
        data = load_file(path, intake)
        if data is not None:
            is_json = path.suffix.lower() in JSON_SUFFIXES
            yield from subjects_of_bytes(data, name=str(path), is_json=is_json, intake=intake)


@app.command("verify")
def verify(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE|DIR", help="Notices (releases, packages, records), documents, or folders"
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per notice")] = False,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Ignore the evidence store (no field diffs, no batch proofs)")
    ] = False,
    rpc_url: RpcUrlOption = None,
) -> None:
    """Verify notices against the chain, streaming: verdicts come out as files are read.

    Exit status: 0 when every notice is anchored or superseded, 1 when any is not,
    2 on usage errors, unreadable input, or no notice to verify, 3 when the chain
    could not be used.
    """
    from backend.core.verdict import Status
    from backend.service.intake import Intake, expand_paths

    files = list(expand_paths(paths))
    intake = Intake()
    counts: Counter[Status] = Counter()
    with progress_bar("verifying", len(files)) as advance:

        def counted() -> Iterator[Path]:
            for path in files:
                yield path
                advance(1)

        subjects = iter_subjects(counted(), intake)
        # The chain is reached only once there is a notice to verify, so that bad input is
        # reported as such even when no chain is running.
        first = next(subjects, None)
        verdicts: Iterator[Verdict] = iter(())
        service: VerifyService | None = None
        if first is not None:
            from backend.service.context import Backend
            from backend.service.verification import VerifyService

            backend = Backend(settings_of(ctx, rpc_url=rpc_url))
            service = VerifyService(backend, store=None if no_store else backend.existing_store())
            verdicts = service.verify(chain([first], subjects))
        for verdict in verdicts:
            counts[verdict.status] += 1
            if as_json:
                typer.echo(json.dumps(verdict.to_json(), sort_keys=True))
            else:
                console.print(describe(verdict))
    report_problems(intake)
    total = sum(counts.values())
    if not total:
        # Nothing verified is not a pass: a script must not read exit 0 here.
        console_err.print("error: no notice to verify")
        raise typer.Exit(2)
    console_err.print(
        f"{plural(total, 'notice')}: " + ", ".join(f"{counts[s]} {s}" for s in Status if counts[s])
    )
    unseen = service.unseen_batch_roots() if service is not None else []
    if unseen:
        console_err.print(
            f"note: {len(unseen)} Merkle batch root(s) on the ledger have no manifest in this evidence "
            "store; notices anchored inside them are not seen by these verdicts"
        )
    if intake.unreadable:
        raise typer.Exit(2)
    if any(not status.passes for status in counts):
        raise typer.Exit(1)


STYLES = {
    "anchored": "green",
    "superseded": "yellow",
    "tampered": "bold red",
    "not_anchored": "red",
    "invalid_seal": "bold red",
    "conflict": "bold red",
}
"""The colour of each verdict status (``backend.core.verdict.Status``, a str enum)."""


def describe(v: Verdict) -> str:
    """One line for people: status, what, who and when, and why it matters.

    Identifiers come from the notice and the chain, so they are escaped: rich markup in a
    release id is printed as written, never interpreted.
    """
    what = escape(f"{v.stage:<18} {v.ocid} / {v.release_id}")
    line = f"[{STYLES[v.status]}]{v.status:<12}[/] {what}"
    if v.block_number is not None:
        who = escape(str(v.agency_name or v.agency))
        line += f"\n{'':13}sealed by {who}, block {v.block_number}, {when(v.block_timestamp)}"
    if v.status == "tampered":
        line += f"\n{'':13}" + escape("; ".join(v.notes))
        if v.changed:
            line += f"\n{'':13}" + escape("changed: " + ", ".join(v.changed))
    elif v.status == "superseded":
        line += f"\n{'':13}superseded by " + escape(", ".join(v.superseded_by))
    elif v.notes:
        line += f"\n{'':13}" + escape("; ".join(v.notes))
    return line
