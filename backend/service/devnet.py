"""Local devnets for the command line and the demo: start, stop, status, reset, and the chain clock.

A thin layer over :class:`backend.chain.devnet.ManagedDevnet`, imported only when a
devnet is acted on: importing this module costs nothing, so that commands that only
name an engine (their ``--help``) start at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pathlib import Path

    from backend.chain.devnet import DevnetInfo
    from backend.service.context import Backend
    from backend.settings import Settings

EngineName = Literal["anvil", "ganache"]
"""The node programs a devnet runs (the values of ``backend.chain.devnet.Engine``)."""

DEFAULT_ENGINE: EngineName = "anvil"


def start_devnet(
    home: Path, engine: EngineName = DEFAULT_ENGINE, port: int | None = None
) -> tuple[DevnetInfo, bool]:
    """Start the devnet of ``home`` (or find it running): its info, and whether it already ran."""
    from backend.chain.devnet import ManagedDevnet

    devnet = ManagedDevnet(home, engine)
    already = devnet.status() is not None
    return devnet.start(port), already


def stop_devnet(home: Path, engine: EngineName = DEFAULT_ENGINE) -> bool:
    """Stop the devnet of ``home`` (its state stays on disk); whether one was running."""
    from backend.chain.devnet import ManagedDevnet

    return ManagedDevnet(home, engine).stop()


def devnet_status(home: Path, engine: EngineName = DEFAULT_ENGINE) -> DevnetInfo | None:
    """The running devnet of ``home``, or None."""
    from backend.chain.devnet import ManagedDevnet

    return ManagedDevnet(home, engine).status()


def reset_devnet(settings: Settings, engine: EngineName = DEFAULT_ENGINE) -> None:
    """Stop the devnet and delete its chain state, and the deployment file that named its ledger."""
    from backend.chain.devnet import ManagedDevnet

    ManagedDevnet(settings.home, engine).reset()
    settings.deployment_path.unlink(missing_ok=True)


def checkout_root() -> Path | None:
    """The checkout this package runs from, when it runs from one (an editable install)."""
    from backend.chain.devnet import project_root

    return project_root()


def chain_time(backend: Backend) -> int:
    """The timestamp of the chain's latest block."""
    from backend.chain.connect import latest_timestamp

    return latest_timestamp(backend.w3)


def advance_clock(backend: Backend, seconds: int) -> int:
    """Move a devnet's clock forward by ``seconds`` and mine a block; the new block's timestamp."""
    from backend.chain.devnet import advance_time

    return advance_time(backend.w3, seconds)
