"""RFC 8785 (JCS) canonical JSON. Interim implementation, to be replaced by the fast one."""

from __future__ import annotations

from typing import Any

import rfc8785


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    return rfc8785.dumps(value)
