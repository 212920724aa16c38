"""``tenderledger demo``: the agency demo, end to end."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from backend.chain.devnet import Engine, ManagedDevnet
from backend.cli.app import app, console, settings_of
from backend.demo.runner import default_corpus, demo_home_of, run_demo


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
    keep_devnet: Annotated[
        bool, typer.Option("--keep-devnet", help="Leave the demo devnet running at the end")
    ] = False,
) -> None:
    """Run the agency demo: devnet, deployment, two agencies, a tender's life, real data, an auditor."""
    settings = settings_of(ctx)
    home = demo_home_of(settings.home)
    corpus = corpus or default_corpus()
    with _sigterm_ends_like_ctrl_c():
        try:
            result = run_demo(settings.home, corpus=corpus, console=console, engine=engine)
            if serve:
                from backend.cli.serve import serve_api

                console.print(
                    f"\n[bold]7. The REST API[/] on http://{settings.api_host}:{settings.api_port} "
                    "(docs at /docs); Ctrl-C to stop"
                )
                serve_api(
                    result.settings.model_copy(
                        update={"api_host": settings.api_host, "api_port": settings.api_port}
                    )
                )
        finally:
            if keep_devnet:
                console.print(f"\ndemo devnet left running: 'tenderledger --home {home} devnet stop' ends it")
            else:
                ManagedDevnet(home, engine).stop()
                console.print(f"\ndemo devnet stopped; its state stays in {home}")


@contextmanager
def _sigterm_ends_like_ctrl_c() -> Iterator[None]:
    """SIGTERM ends the demo through its clean-up (the devnet stops), as Ctrl-C does.

    Handlers can be set only on the main thread; elsewhere this changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_cleanly(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_cleanly)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
