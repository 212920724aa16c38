"""Run the tenderledger command line and report its own peak RSS (MB) to the file named first.

    python benchmarks/peak_rss.py OUT_FILE verify --json FOLDER

The peak is VmHWM from /proc/self/status, the high-water mark of this process's own
address space. (getrusage's ru_maxrss is not used: on Linux it survives execve, so a
process forked from a large parent would report the parent's size.)
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["tenderledger", *sys.argv[2:]]
    atexit.register(lambda: out.write_text(str(peak_rss_mb())))  # whatever the exit status
    from backend.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
