"""The ``tenderledger`` command line: typer commands over the service layer."""

from __future__ import annotations

import sys

import click
import typer

from backend.cli.app import app, console_err
from backend.errors import TenderledgerError

# Command modules register themselves on ``app`` when imported.
from backend.cli import agency as _agency  # noqa: E402,F401
from backend.cli import deploy as _deploy  # noqa: E402,F401
from backend.cli import devnet as _devnet  # noqa: E402,F401


def main() -> None:
    """Entry point: known errors become one clear line and an exit status, never a traceback."""
    try:
        status = app(standalone_mode=False)
    except TenderledgerError as error:
        console_err.print(f"[bold red]error:[/] {error.message}", highlight=False, soft_wrap=True)
        if error.hint:
            console_err.print(f"  {error.hint}", highlight=False, soft_wrap=True)
        sys.exit(error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.Abort:
        console_err.print("aborted")
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(2 if isinstance(error, click.UsageError) else error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    # Without standalone mode, click returns the status of typer.Exit instead of exiting.
    if isinstance(status, int) and status:
        sys.exit(status)


__all__ = ["app", "main"]
