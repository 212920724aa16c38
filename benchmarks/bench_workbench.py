#!/usr/bin/env python3
"""The workbench: 1,000 notices dropped on the verify page, verified in Chromium against Anvil.

A fresh devnet and ledger, 1,000 real-shaped releases anchored through the command line,
``tenderledger serve`` on a free port, and Debian's Chromium driven by Playwright. The figure
is the wall time from handing the files to the page until every verdict is shown (the page's
own reading, digest, chain reads and seal recovery), and the page's own clock for the same run.
The target is under 15 s. Needs ``/usr/bin/chromium`` and the built workbench (``make setup``).

    python benchmarks/bench_workbench.py [--notices N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import workload  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
AGENCY = "Benchmark Agency"
TARGET_S = 15.0
PASSWORD = "benchmark-password"  # noqa: S105 - keystores of a throwaway benchmark chain


def _env(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "TENDERLEDGER_HOME": str(home),
        "TENDERLEDGER_KEY_PASSWORD": PASSWORD,
        "TENDERLEDGER_KEYSTORE_SCRYPT_N": "1024",
    }
    env.pop("TENDERLEDGER_RPC_URL", None)
    return env


def _cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "backend", *args], env=_env(home), capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"tenderledger {' '.join(args)} exited {done.returncode}: {done.stderr[-500:]}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(home: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "serve", "--port", str(port)],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/deployment", timeout=2):  # noqa: S310 - our loopback server
                return url, process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("tenderledger serve did not start")


def figures(notices: int = 1_000) -> dict[str, Any]:
    """Drop ``notices`` anchored releases on the page; the time until every verdict is shown."""
    if not CHROMIUM.exists():
        return {"skipped": f"no Chromium at {CHROMIUM}"}
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="tl-bench-web-") as tmp:
        home, folder = Path(tmp) / "home", Path(tmp) / "notices"
        files = workload.write_releases(folder, notices, seed=11)
        _cli(home, "devnet", "start")
        server = None
        try:
            _cli(home, "deploy")
            _cli(home, "agency", "add", AGENCY)
            _cli(home, "anchor", "--agency", AGENCY, str(folder))
            url, server = _serve(home)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
                page = browser.new_page()
                page.goto(url + "/#/verify")
                page.wait_for_selector("#endpoints-asked:has-text('asks')")
                start = time.perf_counter()
                page.set_input_files("#files", files=[str(f) for f in files])
                handed_s = time.perf_counter() - start
                page.wait_for_selector("#progress:visible", timeout=60_000)
                page.wait_for_selector("#results[data-done=true]", timeout=300_000)
                wall_s = time.perf_counter() - start
                page_s = float(page.eval_on_selector("main", "m => m.dataset.lastRunSeconds"))
                phases = json.loads(page.eval_on_selector("main", "m => m.dataset.phases"))
                statuses: list[str] = page.eval_on_selector_all(
                    "#verdicts > li", "items => items.map(li => li.dataset.status)"
                )
                browser.close()
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=15)
            _cli(home, "devnet", "stop")
    return {
        "notices": len(statuses),
        "all_anchored": statuses.count("anchored") == notices,
        "wall_s": wall_s,
        "page_s": page_s,
        "handing_files_s": handed_s,
        "page_phases_s": phases,
        "target_s": TARGET_S,
        "met": wall_s < TARGET_S and statuses.count("anchored") == notices,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1_000)
    args = parser.parse_args()
    print(json.dumps(figures(args.notices), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
