"""The workbench in Debian's Chromium, against a real server and a managed Anvil with real releases.

One devnet for the whole suite: the ledger deployed, one agency holding the three publishers'
ocid prefixes, every release of ``../shared/ocds-real`` anchored through the command line, and
``tenderledger serve`` running as a subprocess on a free loopback port. Playwright drives the
system Chromium (its path given, no browser ever downloaded). Without Chromium the tests skip
with one line, except under ``CI=true``, where a missing Chromium fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backend.chain.devnet import Engine, ManagedDevnet
from benchmarks import workload
from tests.chain.test_devnet import run_cli

CHROMIUM = Path("/usr/bin/chromium")
PROJECT = Path(__file__).resolve().parents[2]
DIST = PROJECT / "web" / "dist" / "index.html"
AXE = PROJECT / "web" / "node_modules" / "axe-core" / "axe.min.js"
AGENCY = "National Procurement Directorate"
PREFIXES = ("ocds-03ad3f", "ocds-xs1qbl", "ocds-b5fd17")
SERVER_START_S = 60


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; the suite skips (fails under CI=true) without it or without the built page."""
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    if not DIST.exists() or not AXE.exists():
        _missing("the workbench is not built (web/dist): run make setup")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "TENDERLEDGER_HOME": str(home),
        "TENDERLEDGER_KEY_PASSWORD": "devnet-password",
        "TENDERLEDGER_KEYSTORE_SCRYPT_N": "1024",
        **extra,
    }
    environment.pop("TENDERLEDGER_RPC_URL", None)
    return environment


@dataclass
class Server:
    """``tenderledger serve`` in a subprocess."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_server(home: Path, **env: str) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "serve", "--port", str(port)],
        env=cli_env(home, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tenderledger serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/deployment", timeout=2) as answer:
                if answer.status == 200:
                    return Server(url, process)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("tenderledger serve did not answer in time")


@dataclass
class Ledger:
    """The suite's devnet: home, corpus copy, the CLI's own verdicts on it, a token and a server."""

    home: Path
    corpus: Path
    cli_verdicts: list[dict[str, Any]]
    batch: Path
    """Releases anchored as one Merkle batch (their verdicts need the batch manifest)."""
    batch_verdicts: list[dict[str, Any]]
    token: str
    server: Server


@pytest.fixture(scope="session")
def ledger(chromium: Path, ocds_real: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    home = tmp_path_factory.mktemp("workbench-home")
    corpus = tmp_path_factory.mktemp("corpus")
    for path in sorted(ocds_real.rglob("*.json")):
        target = corpus / path.relative_to(ocds_real)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    try:
        assert run_cli(home, "devnet", "start").returncode == 0
        assert run_cli(home, "deploy").returncode == 0
        prefixes = [arg for prefix in PREFIXES for arg in ("--ocid-prefix", prefix)]
        added = run_cli(home, "agency", "add", AGENCY, *prefixes)
        assert added.returncode == 0, added.stderr
        anchored = run_cli(home, "anchor", "--agency", AGENCY, "--json", str(corpus))
        lines = [json.loads(line) for line in anchored.stdout.splitlines()]
        assert any(line["outcome"] == "anchored" for line in lines), anchored.stderr
        verified = run_cli(home, "verify", "--json", str(corpus))
        cli_verdicts = [json.loads(line) for line in verified.stdout.splitlines()]
        assert cli_verdicts, verified.stderr
        batch = tmp_path_factory.mktemp("batch")
        workload.write_releases(batch, 8, seed=31)
        batched = run_cli(home, "anchor", "--agency", AGENCY, "--batch", "--json", str(batch))
        assert batched.returncode == 0, batched.stderr
        verified = run_cli(home, "verify", "--json", str(batch))
        batch_verdicts = [json.loads(line) for line in verified.stdout.splitlines()]
        assert batch_verdicts and all(v.get("batch_root") for v in batch_verdicts), verified.stdout
        issued = run_cli(home, "agency", "token", AGENCY)
        assert issued.returncode == 0, issued.stderr
        token = next(word for word in issued.stdout.split() if word.startswith("tl_"))
        # Submissions through the API answer at once and anchor in the background (pending first).
        server = start_server(home, TENDERLEDGER_API_ANCHOR_WAIT_S="0")
        try:
            yield Ledger(home, corpus, cli_verdicts, batch, batch_verdicts, token, server)
        finally:
            server.stop()
    finally:
        ManagedDevnet(home, Engine.ANVIL).stop()


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, ledger: Ledger) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="America/Santiago"
    )
    context.set_default_timeout(30_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await window.axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
