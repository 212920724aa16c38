"""The ``tenderledger`` command line: typer commands over the service layer."""

from __future__ import annotations

import sys

from rich.markup import escape
from typer import Abort, Exit
from typer._click.exceptions import ClickException, UsageError

# Command modules register themselves on ``app`` when imported.
from backend.cli import agency as _agency  # noqa: F401
from backend.cli import anchor as _anchor  # noqa: F401
from backend.cli import audit as _audit  # noqa: F401
from backend.cli import demo as _demo  # noqa: F401
from backend.cli import deploy as _deploy  # noqa: F401
from backend.cli import devnet as _devnet  # noqa: F401
from backend.cli import evidence as _evidence  # noqa: F401
from backend.cli import history as _history  # noqa: F401
from backend.cli import serve as _serve  # noqa: F401
from backend.cli import tokens as _tokens  # noqa: F401
from backend.cli import verify as _verify  # noqa: F401
from backend.cli.app import app, console_err, demo_pointer
from backend.errors import ChainError, ConfigurationError, TenderledgerError


def main() -> None:
    """Entry point: known errors become one clear line and an exit status, never a traceback."""
    try:
        status = app(standalone_mode=False)
    except TenderledgerError as error:
        # Messages name files and notices, which may hold rich markup: printed as written.
        console_err.print(f"[bold red]error:[/] {escape(error.message)}", highlight=False, soft_wrap=True)
        if error.hint:
            console_err.print(f"  {escape(error.hint)}", highlight=False, soft_wrap=True)
        # Only a missing chain or ledger can mean "you are in the wrong home".
        pointer = demo_pointer() if isinstance(error, ConfigurationError | ChainError) else None
        if pointer:
            console_err.print(f"  {escape(pointer)}", highlight=False, soft_wrap=True)
        sys.exit(error.exit_code)
    except Exit as done:
        sys.exit(done.exit_code)
    except Abort:
        console_err.print("aborted")
        sys.exit(130)
    except ClickException as error:
        error.show()
        sys.exit(2 if isinstance(error, UsageError) else error.exit_code)
    # Without standalone mode, a command's typer.Exit status is returned instead of raised.
    if isinstance(status, int) and status:
        sys.exit(status)


__all__ = ["app", "main"]
