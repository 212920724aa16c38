"""``tenderledger devnet``: a local chain in the background on 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from backend.cli.app import app, console, settings_of
from backend.service.devnet import DEFAULT_ENGINE, EngineName

devnet_app = typer.Typer(
    help="Run a local chain (Anvil or Ganache) with state kept on disk.", no_args_is_help=True
)
app.add_typer(devnet_app, name="devnet")

EngineOption = Annotated[EngineName, typer.Option("--engine", help="Node program to run")]


@devnet_app.command("start")
def start(
    ctx: typer.Context,
    engine: EngineOption = DEFAULT_ENGINE,
    port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1 (default: a free one)")] = None,
) -> None:
    """Start the devnet (or find it running) and print its RPC URL once it answers."""
    from backend.service.devnet import start_devnet

    info, already = start_devnet(settings_of(ctx).home, engine, port)
    state = "already running" if already else "started"
    console.print(
        f"{engine} devnet {state}: chain {info.chain_id}, pid {info.pid}, state in {info.state_path}"
    )
    console.print(info.rpc_url)


@devnet_app.command("stop")
def stop(ctx: typer.Context, engine: EngineOption = DEFAULT_ENGINE) -> None:
    """Stop the devnet; its state stays on disk for the next start."""
    from backend.service.devnet import stop_devnet

    stopped = stop_devnet(settings_of(ctx).home, engine)
    console.print(f"{engine} devnet stopped" if stopped else f"{engine} devnet was not running")


@devnet_app.command("status")
def status(
    ctx: typer.Context,
    engine: EngineOption = DEFAULT_ENGINE,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable status")] = False,
) -> None:
    """Say whether the devnet runs, and where. Exit 1 when it does not."""
    from backend.service.devnet import devnet_status

    info = devnet_status(settings_of(ctx).home, engine)
    if as_json:
        console.print_json(json.dumps({"running": info is not None, **(asdict(info) if info else {})}))
    elif info is None:
        console.print(f"{engine} devnet is not running")
    else:
        console.print(f"{engine} devnet running: {info.rpc_url} (chain {info.chain_id}, pid {info.pid})")
    if info is None:
        raise typer.Exit(1)


@devnet_app.command("reset")
def reset(
    ctx: typer.Context,
    engine: EngineOption = DEFAULT_ENGINE,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Stop the devnet and delete its chain state (the deployment file goes with it)."""
    from backend.service.devnet import reset_devnet

    settings = settings_of(ctx)
    if not yes:
        typer.confirm(f"Delete the {engine} devnet state under {settings.home}?", abort=True)
    reset_devnet(settings, engine)
    console.print(f"{engine} devnet reset: the next start is a fresh chain; deploy again after it")
