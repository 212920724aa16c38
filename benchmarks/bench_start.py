#!/usr/bin/env python3
"""Command start: ``tenderledger --help`` and a one-notice ``verify``, against ``python -c pass``.

Each is the best wall time of a few runs of a fresh process (the figure a person feels
when they type the command), and its ratio to a bare interpreter start measured in
the same run. ``run.py`` calls :func:`figures` with a chain that holds the notice;
alone, this measures ``--help`` only:

    python benchmarks/bench_start.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def tenderledger() -> list[str]:
    """The installed command beside this interpreter, else ``python -m backend``."""
    script = Path(sys.executable).parent / "tenderledger"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "backend"]


def best_wall_time(command: list[str], *, env: dict[str, str], rounds: int) -> float:
    """The fastest of ``rounds`` runs of ``command``, in seconds; a failing command is an error."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        best = min(best, elapsed)
    return best


def figures(
    *, home: Path | None = None, rpc_url: str | None = None, notice: Path | None = None, rounds: int = 7
) -> dict[str, Any]:
    """Best start times of a bare interpreter, ``--help``, and (given a chain) a one-notice ``verify``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TENDERLEDGER_")}
    bare = best_wall_time([sys.executable, "-c", "pass"], env=env, rounds=rounds)
    help_s = best_wall_time([*tenderledger(), "--help"], env=env, rounds=rounds)
    result: dict[str, Any] = {
        "python_pass_s": bare,
        "help_s": help_s,
        "help_vs_python": help_s / bare,
    }
    if home is not None and rpc_url is not None and notice is not None:
        chain_env = {**env, "TENDERLEDGER_HOME": str(home), "TENDERLEDGER_RPC_URL": rpc_url}
        verify_s = best_wall_time([*tenderledger(), "verify", str(notice)], env=chain_env, rounds=rounds)
        result.update(verify_one_s=verify_s, verify_one_vs_python=verify_s / bare)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each command; the best counts")
    args = parser.parse_args()
    print(json.dumps(figures(rounds=args.rounds), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
