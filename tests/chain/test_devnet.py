"""Managed devnets and the commands around them, through the real command line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.chain.connect import web3_for
from backend.chain.deployment import Deployment
from backend.chain.devnet import Engine, ManagedDevnet

CLI_TIMEOUT_S = 180


def run_cli(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "TENDERLEDGER_HOME": str(home),
        "TENDERLEDGER_KEY_PASSWORD": "devnet-password",
        "TENDERLEDGER_KEYSTORE_SCRYPT_N": "1024",
        **(env or {}),
    }
    environment.pop("TENDERLEDGER_RPC_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for engine in Engine:
        ManagedDevnet(tmp_path, engine).stop()


@pytest.mark.parametrize("engine", [Engine.ANVIL, Engine.GANACHE])
def test_start_deploy_and_state_survive_a_restart(home: Path, engine: Engine) -> None:
    started = run_cli(home, "devnet", "start", "--engine", engine)
    assert started.returncode == 0, started.stderr
    rpc_url = started.stdout.strip().splitlines()[-1]
    assert rpc_url.startswith("http://127.0.0.1:")
    deployed = run_cli(home, "deploy")
    assert deployed.returncode == 0, deployed.stderr
    added = run_cli(home, "agency", "add", "City of Example")
    assert added.returncode == 0, added.stderr
    assert run_cli(home, "devnet", "stop", "--engine", engine).returncode == 0
    assert run_cli(home, "devnet", "status", "--engine", engine).returncode == 1
    restarted = run_cli(home, "devnet", "start", "--engine", engine)
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.strip().splitlines()[-1] == rpc_url, "a restarted devnet keeps its port"
    again = run_cli(home, "agency", "add", "City of Example")
    assert again.returncode == 0, again.stderr
    assert "already registered (id 1)" in again.stdout
    status = run_cli(home, "devnet", "status", "--engine", engine, "--json")
    assert json.loads(status.stdout)["running"] is True


def test_anvil_state_survives_a_crash(home: Path) -> None:
    devnet = ManagedDevnet(home, Engine.ANVIL)
    devnet.start()
    assert run_cli(home, "deploy").returncode == 0
    deployment = Deployment.load(home / "deployment.json")
    # The state is written every second; give it one interval before the crash.
    import time

    time.sleep(2.2)
    devnet.kill()
    info = devnet.start()
    assert web3_for(info.rpc_url).eth.get_code(deployment.ledger), "the ledger survives SIGKILL"


def test_reset_gives_a_fresh_chain(home: Path) -> None:
    assert run_cli(home, "devnet", "start").returncode == 0
    assert run_cli(home, "deploy").returncode == 0
    reset = run_cli(home, "devnet", "reset", "--yes")
    assert reset.returncode == 0, reset.stderr
    assert not (home / "deployment.json").exists()
    info = ManagedDevnet(home, Engine.ANVIL).start()
    assert web3_for(info.rpc_url).eth.block_number == 0


def test_missing_node_binary_is_one_clear_line(home: Path) -> None:
    result = run_cli(home, "devnet", "start", env={"TENDERLEDGER_ANVIL": str(home / "no-such-anvil")})
    assert result.returncode == 3
    assert result.stderr.startswith("error: anvil not found at")
    assert "Traceback" not in result.stderr


def test_port_in_use_is_one_clear_line(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(home, "devnet", "start", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == f"error: port {port} on 127.0.0.1 is in use"


def _edit_deployment(home: Path, **changes: object) -> None:
    path = home / "deployment.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_chain_id_that_does_not_match_the_deployment_file_is_refused(home: Path) -> None:
    assert run_cli(home, "devnet", "start").returncode == 0
    assert run_cli(home, "deploy").returncode == 0
    _edit_deployment(home, chain_id=1)
    result = run_cli(home, "agency", "add", "City of Example")
    assert result.returncode == 3
    assert result.stderr.splitlines()[0] == "error: chain id 31337 does not match the deployment file (1)"


def test_code_that_differs_from_the_artifact_is_refused(home: Path) -> None:
    assert run_cli(home, "devnet", "start").returncode == 0
    assert run_cli(home, "deploy").returncode == 0
    _edit_deployment(home, code_hash="0x" + "ab" * 32)
    result = run_cli(home, "agency", "add", "City of Example")
    assert result.returncode == 3
    assert "differs from the deployment file" in result.stderr.splitlines()[0]


def test_deploy_refuses_to_replace_a_live_ledger(home: Path) -> None:
    assert run_cli(home, "devnet", "start").returncode == 0
    assert run_cli(home, "deploy").returncode == 0
    again = run_cli(home, "deploy")
    assert again.returncode == 2
    assert "already deployed" in again.stderr
    assert run_cli(home, "deploy", "--force").returncode == 0
