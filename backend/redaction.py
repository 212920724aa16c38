"""Keeping credentials out of messages, logs and files handed to auditors.

Two kinds of URL carry secrets here. A database URL may hold a password
(``postgresql://user:password@host/db``); a JSON-RPC URL may hold credentials in its
userinfo (``https://user:key@node``), its query string (``?apikey=...``) or, rarely,
its fragment. Nothing outside the process that was given them needs those parts:

* :func:`database_url_for_people` masks the password of a database URL, for errors;
* :func:`public_rpc_url` keeps scheme, host, port and path of an RPC URL, for the
  deployment file and errors;
* :func:`scrub` removes given secret strings from any text (a driver's message may
  quote the URL it was given, or the password it rejected).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MASK: Final = "***"
MIN_SECRET_CHARS: Final = 3
"""Shorter "secrets" are not scrubbed: replacing every ``a`` in a message helps nobody."""


def public_rpc_url(url: str | None) -> str | None:
    """``url`` without userinfo, query string and fragment; None when it is not a URL with a host."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def url_secrets(url: str | None) -> list[str]:
    """The parts of ``url`` that may be credentials: userinfo, password, query and fragment,
    each as written and percent-decoded."""
    if not url:
        return []
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return [url]
    found: list[str] = []
    userinfo, at, _host = parts.netloc.rpartition("@")
    if at:
        found.append(userinfo)
        _user, colon, password = userinfo.partition(":")
        if colon:
            found.append(password)
    found += [parts.query, parts.fragment]
    return _variants(found)


def database_url_for_people(url: str) -> str:
    """A database URL fit for an error message: its password (and query string) masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return scrub(url, url_secrets(url))
    shown = parsed.render_as_string(hide_password=True)
    return scrub(shown, database_url_secrets(url))


def database_url_secrets(url: str) -> list[str]:
    """The secret parts of a database URL: its password (as parsed and as written), userinfo, query."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    found = url_secrets(url)
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        password = None
    if password:
        found.append(str(password))
    return _variants(found)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***`` (longest first)."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _variants(values: Iterable[str]) -> list[str]:
    """Each value as written, percent-decoded and percent-encoded: messages quote any of them."""
    found: list[str] = []
    for value in values:
        if value:
            found += [value, unquote(value), quote(value, safe="")]
    return list(dict.fromkeys(found))
