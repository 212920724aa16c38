"""Raw JSON-RPC for the hot paths: batched HTTP requests, no web3 formatting layers.

web3.py's contract layer spends most of its time formatting; anchoring thousands of
notices needs only a few methods with plain hex parameters. ``RpcClient`` sends them
as-is, several per HTTP request when asked (JSON-RPC batches), over one keep-alive
session. For providers that are not HTTP (the in-process chain) it goes through web3's
request manager, middleware included (so the API's per-chain lock applies), and turns
the answers back into wire form.

Given only a URL (``RpcClient.for_url``), it needs no web3 at all: reading the ledger to
verify a notice then starts without importing it.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Mapping, Sequence
from itertools import count
from typing import TYPE_CHECKING, Any

import requests

from backend.errors import ChainError, NetworkError
from backend.redaction import public_rpc_url, scrub, url_secrets

if TYPE_CHECKING:
    from web3 import Web3

HTTP_TIMEOUT_S = 60.0


class RpcError(ChainError):
    """A JSON-RPC error response; ``data`` holds revert data when the node sent some."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.code = error.get("code")
        self.rpc_message = str(error.get("message", error))
        self.data = error.get("data")
        super().__init__(f"{method} failed: {self.rpc_message}")


class RpcClient:
    """Plain JSON-RPC calls to the chain behind ``w3``, or at ``url`` (see ``for_url``)."""

    def __init__(self, w3: Web3 | None = None, *, url: str | None = None) -> None:
        if w3 is not None:
            from web3.providers.rpc import HTTPProvider

            provider = w3.provider
            url = provider.endpoint_uri if isinstance(provider, HTTPProvider) else None
        elif url is None:
            raise ValueError("an RpcClient needs a Web3 or a URL")
        self.w3 = w3
        self._url = url
        # Errors name the endpoint without the credentials its URL may carry.
        self._shown_url = public_rpc_url(self._url) or "the configured endpoint"
        self._secrets = url_secrets(self._url)
        self._session = requests.Session() if self._url else None
        # One session, one request at a time, even when threads share the client.
        self._lock = threading.Lock()
        self._ids = count(1)

    @classmethod
    def for_url(cls, url: str) -> RpcClient:
        """A client of the node at ``url``, over HTTP, without web3."""
        return cls(url=url)

    @property
    def is_http(self) -> bool:
        """Whether requests go over HTTP (batches, topic lists) rather than to an in-process chain."""
        return self._session is not None

    def call(self, method: str, params: Sequence[Any]) -> Any:
        """One request; raises RpcError for an error response, NetworkError when unreachable."""
        (result,) = self.batch([(method, params)])
        if isinstance(result, RpcError):
            raise result
        return result

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several requests in one round trip; each result is the value or its RpcError."""
        if not calls:
            return []
        if self._session is None:
            return [self._through_provider(method, params) for method, params in calls]
        body: list[dict[str, Any]] = [
            {"jsonrpc": "2.0", "id": next(self._ids), "method": m, "params": list(p)} for m, p in calls
        ]
        try:
            with self._lock:
                response = self._session.post(self._url, json=body, timeout=HTTP_TIMEOUT_S)  # type: ignore[arg-type]
            response.raise_for_status()
            replies = response.json()
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise NetworkError(
                f"cannot reach the chain at {self._shown_url}: {scrub(str(exc), self._secrets)}"
            ) from exc
        except (requests.HTTPError, ValueError) as exc:
            raise NetworkError(
                f"the chain at {self._shown_url} gave an unusable answer: {scrub(str(exc), self._secrets)}"
            ) from exc
        if isinstance(replies, dict):  # some nodes answer a failed batch with one error object
            replies = [replies] * len(body)
        by_id = {reply.get("id"): reply for reply in replies}
        results = []
        for request in body:
            reply = by_id.get(request["id"], {"error": {"message": "no reply"}})
            results.append(
                RpcError(request["method"], reply["error"]) if "error" in reply else reply.get("result")
            )
        return results

    def _through_provider(self, method: str, params: Sequence[Any]) -> Any:
        """Through web3's request manager (and its middleware), back to the JSON-RPC wire shape."""
        assert self.w3 is not None  # a client made from a URL speaks HTTP
        try:
            if method == "eth_getLogs":  # the in-process chain's log filter wants web3's own formatting
                result = self.w3.eth.get_logs(params[0])
            else:
                result = self.w3.manager.request_blocking(method, list(params))  # type: ignore[arg-type]
        except Exception as exc:
            return _error_of(method, exc)
        return _wire(result)


def _wire(value: Any) -> Any:
    """A web3-formatted value in JSON-RPC wire form: quantities and bytes as 0x hex."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


def _error_of(method: str, exc: Exception) -> RpcError:
    from backend.chain.revert import revert_data_of

    data = revert_data_of(exc) or _bytes_in_message(str(exc))
    return RpcError(method, {"message": str(exc), **({"data": "0x" + data.hex()} if data else {})})


def _bytes_in_message(message: str) -> bytes | None:
    """The in-process chain reports revert data as the repr of bytes inside its message."""
    _, marker, literal = message.partition("execution reverted: ")
    if not marker or not literal.startswith(("b'", 'b"')):
        return None
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) and len(value) >= 4 else None


def revert_bytes(error: RpcError) -> bytes | None:
    """The revert data of an RpcError, whatever shape the node gave it."""
    data = error.data
    if isinstance(data, dict):  # Ganache nests it
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None
