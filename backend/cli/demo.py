"""``tenderledger demo``: the agency demo, end to end."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from backend.cli.app import app, console, settings_of
from backend.service.devnet import DEFAULT_ENGINE, EngineName


@app.command("demo")
def demo(
    ctx: typer.Context,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API afterwards until interrupted")
    ] = True,
    engine: Annotated[EngineName, typer.Option("--engine", help="Devnet node program")] = DEFAULT_ENGINE,
    corpus: Annotated[
        Path | None, typer.Option(help="Folder of real OCDS files (default: ../shared/ocds-real)")
    ] = None,
    keep_devnet: Annotated[
        bool, typer.Option("--keep-devnet", help="Leave the demo devnet running at the end")
    ] = False,
) -> None:
    """Run the agency demo: devnet, deployment, two agencies, a tender's life, real data, an auditor.

    Its chain, ledger, keystores, evidence store and files stay in the demo's own home
    ($TENDERLEDGER_HOME/demo); the demo ends by saying how to run the commands on them.
    """
    from backend.demo.runner import default_corpus, demo_home_of, run_demo
    from backend.service.devnet import stop_devnet

    settings = settings_of(ctx)
    home = demo_home_of(settings.home)
    corpus = corpus or default_corpus()
    finished = False
    with _sigterm_ends_like_ctrl_c():
        try:
            result = run_demo(settings.home, corpus=corpus, console=console, engine=engine)
            finished = True
            if serve:
                from backend.cli.serve import serve_api

                address = f"http://{settings.api_host}:{settings.api_port}/"
                console.print(
                    f"\n[bold]7. The workbench[/] on {address} : open it, and verify the auditor's "
                    "files there (the page offers them); the REST API is served beside it, its docs "
                    f"at {address}docs; Ctrl-C to stop"
                )
                serve_api(
                    result.settings.model_copy(
                        update={"api_host": settings.api_host, "api_port": settings.api_port}
                    )
                )
        finally:
            if keep_devnet:
                console.print(f"\ndemo devnet left running; its ledger and files are in {home}")
            else:
                stop_devnet(home, engine)
                console.print(f"\ndemo devnet stopped; its chain, ledger and files stay in {home}")
            if finished:
                for line in try_it_yourself(home, engine, running=keep_devnet):
                    console.print(line, markup=False)


def try_it_yourself(home: Path, engine: EngineName, *, running: bool) -> list[str]:
    """The commands that reopen the demo's chain and verify its files, ready to paste into a shell."""
    from backend.demo.scenario import OCID

    engine_flag = "" if engine == DEFAULT_ENGINE else f" --engine {engine}"
    lines = ["to try the commands on them:"]
    if _virtualenv_not_active():
        lines.append(
            f"  source {_shown(Path(sys.executable).parent / 'activate')}  # puts tenderledger on PATH"
        )
    lines.append(f"  export TENDERLEDGER_HOME={_shown(home)}")
    if not running:
        lines.append(f"  tenderledger devnet start{engine_flag}  # the demo's chain again, where it stopped")
    lines.append(f"  tenderledger verify {_shown(home / 'notices')} {_shown(home / 'auditor')}")
    lines.append(f"  tenderledger history {OCID}")
    lines.append(f"  tenderledger devnet stop{engine_flag}")
    return lines


def _virtualenv_not_active() -> bool:
    """Whether this runs from a virtualenv that the shell has not activated (``make demo``, or
    ``.venv/bin/tenderledger`` called by its path): then ``tenderledger`` alone is not found."""
    in_virtualenv = sys.prefix != sys.base_prefix
    active = os.environ.get("VIRTUAL_ENV")
    return in_virtualenv and (active is None or Path(active).resolve() != Path(sys.prefix).resolve())


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is under it, quoted for a shell."""
    with suppress(ValueError):
        path = path.resolve().relative_to(Path(os.getcwd()).resolve())
    return shlex.quote(str(path))


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
