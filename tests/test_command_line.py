"""The command line starts at once, takes ``--rpc-url`` on either side of the command, and
points a newcomer who ran the demo at the demo's ledger.

``--help`` must not import the chain's, the keys' or the API's libraries: each start is
checked with ``python -X importtime``, which lists every module a process imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from backend.errors import ConfigurationError
from tests.api.test_cli import run_cli

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("web3", "eth_account", "eth_keyfile", "fastapi")


def imported_modules(*args: str) -> set[str]:
    """Every module ``python -m backend ARGS`` imports, from its ``-X importtime`` report."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TENDERLEDGER_")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "backend", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage:" in done.stdout
    return modules_in(done.stderr)


def modules_in(report: str) -> set[str]:
    """The modules named in a ``-X importtime`` report."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in report.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def heavy_in(modules: set[str]) -> list[str]:
    """The chain's, the keys' and the API's libraries among ``modules``."""
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("verify", "--help"),
        ("anchor", "--help"),
        ("history", "--help"),
        ("agency", "add", "--help"),
        ("agency", "token", "--help"),
        ("deploy", "--help"),
        ("devnet", "start", "--help"),
        ("demo", "--help"),
        ("serve", "--help"),
        ("audit-store", "--help"),
        ("evidence", "export", "--help"),
    ],
    ids=lambda args: " ".join(args),
)
def test_help_imports_no_chain_key_or_api_library(args: tuple[str, ...]) -> None:
    modules = imported_modules(*args)

    assert "backend.cli" in modules, "the report lists what was imported"
    heavy = heavy_in(modules)
    assert not heavy, f"tenderledger {' '.join(args)} imported {heavy[:5]}"


def test_verification_reads_the_ledger_without_the_chain_or_key_libraries() -> None:
    # What `verify` opens once there is a notice: the service, the backend, the ledger's read
    # side and the chain's URL. Over HTTP none of it needs web3 or the key libraries.
    code = (
        "import backend.service.verification, backend.service.context, backend.chain.views, "
        "backend.chain.connect, backend.cli.verify, backend.service.history"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = modules_in(done.stderr)

    assert "backend.chain.views" in modules, "the report lists what was imported"
    heavy = heavy_in(modules)
    assert not heavy, f"verification imported {heavy[:5]}"


def test_help_shows_no_type_after_a_flag() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backend", "verify", "--help"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )
    flags = [line for line in done.stdout.splitlines() if line.strip().startswith(("--help", "--json"))]
    assert len(flags) == 2, done.stdout
    assert not any("<bool>" in line for line in flags), flags


def test_values_repeated_for_a_light_start_match_their_source() -> None:
    from backend.chain.devnet import Engine
    from backend.chain.ledger import DEFAULT_ADMIN_DELAY_S
    from backend.cli.anchor import BATCH_SIZE_HELP
    from backend.cli.deploy import DEFAULT_ADMIN_DELAY_S as CLI_ADMIN_DELAY_S
    from backend.service.anchoring import DEFAULT_BATCH_SIZE
    from backend.service.devnet import EngineName

    assert CLI_ADMIN_DELAY_S == DEFAULT_ADMIN_DELAY_S
    assert f"(default {DEFAULT_BATCH_SIZE:,})" in BATCH_SIZE_HELP
    assert set(get_args(EngineName)) == {str(engine) for engine in Engine}


# ---------------------------------------------------------------- --rpc-url on either side


@pytest.fixture
def rpc_urls_seen(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The RPC URL each governance command would connect to; the command stops right there."""
    seen: list[str | None] = []

    def open_ledger(settings: object) -> None:
        seen.append(getattr(settings, "rpc_url", None))
        raise ConfigurationError("stopped by the test")

    monkeypatch.delenv("TENDERLEDGER_RPC_URL", raising=False)
    monkeypatch.setattr("backend.service.governance.open_ledger", open_ledger)
    return seen


@pytest.mark.parametrize(
    ("before", "after", "used"),
    [
        ((), ("--rpc-url", "http://127.0.0.1:1"), "http://127.0.0.1:1"),
        (("--rpc-url", "http://127.0.0.1:2"), (), "http://127.0.0.1:2"),
        (("--rpc-url", "http://127.0.0.1:2"), ("--rpc-url", "http://127.0.0.1:1"), "http://127.0.0.1:1"),
    ],
    ids=["after", "before", "after_wins"],
)
def test_rpc_url_is_taken_before_and_after_the_command(
    monkeypatch: pytest.MonkeyPatch,
    rpc_urls_seen: list[str | None],
    tmp_path: Path,
    before: tuple[str, ...],
    after: tuple[str, ...],
    used: str,
) -> None:
    args = ("agency", "reserve-prefix", "City of Example", "ocds-abc123")

    status = run_cli(monkeypatch, "--home", str(tmp_path), *before, *args, *after)

    assert status == 2, "the test's stop, not a usage error"
    assert rpc_urls_seen == [used]


# ---------------------------------------------------------------- after the demo


def test_a_failure_in_a_home_without_a_ledger_points_at_the_demos(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "deployment.json").write_text("{}")
    notice = tmp_path / "tender.json"
    notice.write_text(
        json.dumps({"ocid": "ocds-abc123-1", "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["tender"]})
    )
    monkeypatch.delenv("TENDERLEDGER_RPC_URL", raising=False)

    status = run_cli(monkeypatch, "--home", str(tmp_path), "verify", str(notice))

    assert status in (2, 3)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("error: ")
    assert f"the demo's ledger is in {demo}" in lines[-1]
    assert f"export TENDERLEDGER_HOME={demo}" in lines[-1]
