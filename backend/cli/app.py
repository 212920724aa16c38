"""The typer application, its global options and shared helpers."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from backend.errors import KeystoreError

if TYPE_CHECKING:  # pydantic-settings is imported once a command runs, not for --help
    from backend.service.intake import Intake
    from backend.settings import Settings

app = typer.Typer(
    name="tenderledger",
    help="Seal and anchor public-procurement notices on an EVM chain; verify them later.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: flags are shown without a type, and --help needs no rich layout.
    rich_markup_mode=None,
)
console = Console(highlight=False, soft_wrap=True)
console_err = Console(stderr=True, highlight=False, soft_wrap=True)
RPC_URL_HELP = "JSON-RPC endpoint (default: $TENDERLEDGER_RPC_URL, else the running devnet)"


@app.callback()
def configure(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option(help="State folder (default: $TENDERLEDGER_HOME or ./.tenderledger)")
    ] = None,
    rpc_url: Annotated[str | None, typer.Option(help=RPC_URL_HELP)] = None,
) -> None:
    from backend.settings import Settings

    overrides: dict[str, object] = {}
    if home is not None:
        overrides["home"] = home
    if rpc_url is not None:
        overrides["rpc_url"] = rpc_url
    ctx.obj = Settings(**overrides)  # type: ignore[arg-type]
    run_state.home = ctx.obj.home


@dataclass
class RunState:
    """What this run of the command line was told, for messages after a failure."""

    home: Path | None = None


run_state = RunState()


def demo_pointer() -> str | None:
    """When this run's home has no ledger but the demo's home has one: how to use the demo's.

    A newcomer who ran the demo and then tries a command on its files meets "no chain"
    or "no deployment file": the demo keeps its own home, and its chain stops with it.
    """
    from backend.demo.runner import demo_home_of

    home = run_state.home
    if home is None or (home / "deployment.json").exists():
        return None
    demo = demo_home_of(home)
    if not (demo / "deployment.json").exists():
        return None
    return (
        f"the demo's ledger is in {demo}: export TENDERLEDGER_HOME={demo}, "
        "then 'tenderledger devnet start' reopens its chain where the demo stopped it"
    )


RpcUrlOption = Annotated[
    str | None, typer.Option("--rpc-url", help=RPC_URL_HELP + "; also accepted before the command")
]
"""``--rpc-url`` on a command that talks to the chain: after the command as before it."""


def settings_of(ctx: typer.Context, *, rpc_url: str | None = None) -> Settings:
    """The settings of this run; ``rpc_url``, given after the command, wins over one given before."""
    from backend.settings import Settings

    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings.model_copy(update={"rpc_url": rpc_url}) if rpc_url is not None else settings


def when(timestamp: int | None) -> str:
    """A block time for people: UTC, to the second; empty when there is none."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ") if timestamp else ""


def report_problems(intake: Intake) -> None:
    """One line per file or entry that gave no notice, naming it once."""
    from rich.markup import escape

    for problem in intake.problems:
        level = "error" if problem.fatal else "skipped"
        # Some messages already start with the file's name: it is said once.
        message = problem.message.removeprefix(f"{problem.source}: ")
        console_err.print(f"{level}: {escape(problem.source)}: {escape(message)}")


def plural(count: int, noun: str) -> str:
    """``1 notice``, ``2 notices``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def prompt_password(text: str, confirm: bool) -> str:
    """Ask for a password on the terminal (used when neither the agency's own variable,
    TENDERLEDGER_KEY_PASSWORD_<AGENCY>, nor the shared TENDERLEDGER_KEY_PASSWORD is set)."""
    if not sys.stdin.isatty():
        raise KeystoreError(
            f"{text[0].lower()}{text[1:]} is needed and there is no terminal to ask on",
            hint="set TENDERLEDGER_KEY_PASSWORD_<AGENCY> (the agency's name upper-cased, other "
            "characters as _) or the shared TENDERLEDGER_KEY_PASSWORD",
        )
    value: str = typer.prompt(text, hide_input=True, confirmation_prompt=confirm)
    return value
