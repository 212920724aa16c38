"""``tenderledger demo``, the job of ``make demo``: it runs through, says what the chain
says, and never leaves its devnet behind, however it ends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from backend.chain.devnet import Engine, ManagedDevnet
from backend.demo.runner import demo_home_of
from tests.chain.test_devnet import run_cli

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]

SERVE_WAIT_S = 180
STOP_WAIT_S = 30


def _demo_devnet(home: Path) -> ManagedDevnet:
    return ManagedDevnet(demo_home_of(home), Engine.ANVIL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_demo_tells_the_tender_story_from_the_chain_and_stops_its_devnet(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "demo", "--no-serve")

    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "award sent before the deadline: refused by the ledger (DeadlineNotPassed)" in out
    for line in (
        "tender.json                      superseded   by VLP-2026-0042-amendment-1",
        "award-copy-from-a-bidder.json    tampered     changed: /awards/0/value/amount",
        "award-never-published.json       not_anchored nothing on the ledger for this notice",
    ):
        assert line in out
    assert "timeline of ocds-tldemo-VLP-2026-0042: tender -> tenderAmendment -> award -> contract" in out
    assert "demo devnet stopped" in out
    assert _demo_devnet(tmp_path).status() is None


def test_sigterm_while_the_demo_serves_the_api_stops_its_devnet(tmp_path: Path) -> None:
    port = _free_port()
    empty = tmp_path / "no-corpus"
    empty.mkdir()
    environment = {
        **os.environ,
        "TENDERLEDGER_HOME": str(tmp_path),
        "TENDERLEDGER_API_PORT": str(port),
        "TENDERLEDGER_KEYSTORE_SCRYPT_N": "1024",
    }
    environment.pop("TENDERLEDGER_RPC_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "demo", "--corpus", str(empty)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + SERVE_WAIT_S
        while True:
            assert process.poll() is None, f"the demo exited early: {process.communicate()[0][-2000:]}"
            assert time.monotonic() < deadline, "the demo's API did not answer in time"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert _demo_devnet(tmp_path).status() is not None, "the demo's devnet runs while the API is served"

        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=STOP_WAIT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        _demo_devnet(tmp_path).stop()

    assert process.returncode == 128 + signal.SIGTERM
    assert "demo devnet stopped" in out
    assert _demo_devnet(tmp_path).status() is None
