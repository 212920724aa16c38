"""Run the tenderledger command line and report its own peak RSS (MB) to the file named first.

python benchmarks/peak_rss.py OUT_FILE verify --json FOLDER
"""

from __future__ import annotations

import atexit
import resource
import sys
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["tenderledger", *sys.argv[2:]]
    # ru_maxrss is in kilobytes on Linux; written at exit, whatever the exit status.
    atexit.register(lambda: out.write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
    from backend.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
