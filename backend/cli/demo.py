"""``tenderledger demo``: the agency demo, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backend.chain.devnet import Engine
from backend.cli.app import app, console, settings_of
from backend.demo.runner import default_corpus, run_demo


@app.command("demo")
def demo(
    ctx: typer.Context,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API afterwards until interrupted")
    ] = True,
    engine: Annotated[Engine, typer.Option("--engine", help="Devnet node program")] = Engine.ANVIL,
    corpus: Annotated[
        Path | None, typer.Option(help="Folder of real OCDS files (default: ../shared/ocds-real)")
    ] = None,
) -> None:
    """Run the agency demo: devnet, deployment, two agencies, a tender's life, real data, an auditor."""
    settings = settings_of(ctx)
    result = run_demo(settings.home, corpus=corpus or default_corpus(), console=console, engine=engine)
    console.print(
        f"\ndemo state in {result.settings.home} (devnet still running: "
        f"'tenderledger --home {result.settings.home} devnet stop' ends it)"
    )
    if serve:
        from backend.cli.serve import serve_api

        console.print(
            f"\n[bold]7. The REST API[/] on http://{settings.api_host}:{settings.api_port} "
            "(docs at /docs); Ctrl-C to stop"
        )
        serve_api(
            result.settings.model_copy(update={"api_host": settings.api_host, "api_port": settings.api_port})
        )
