"""One lock around the chain: a ``Web3`` shared between threads sends one request at a time.

The in-process EVM of the tests is not thread-safe, and an HTTP session is not meant
to be shared mid-request either. The lock sits innermost, around the provider itself,
so middleware that makes requests of its own never waits on itself.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from web3 import Web3
from web3.middleware.base import Web3Middleware
from web3.types import MakeBatchRequestFn, MakeRequestFn, RPCEndpoint, RPCResponse

CHAIN_LOCK_MIDDLEWARE: Final = "tenderledger_chain_lock"

_install_lock = threading.Lock()


def _serialized_requests(lock: threading.RLock) -> type[Web3Middleware]:
    """A middleware class holding ``lock`` around each JSON-RPC request (and batch) it passes on."""

    class SerializedRequests(Web3Middleware):
        def wrap_make_request(self, make_request: MakeRequestFn) -> MakeRequestFn:
            def serialized(method: RPCEndpoint, params: Any) -> RPCResponse:
                with lock:
                    return make_request(method, params)

            return serialized

        def wrap_make_batch_request(self, make_batch_request: MakeBatchRequestFn) -> MakeBatchRequestFn:
            def serialized(requests_info: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
                with lock:
                    return make_batch_request(requests_info)

            return serialized

    return SerializedRequests


def serialize_chain_access(w3: Web3) -> None:
    """Make ``w3`` safe to share between threads: one request reaches the provider at a time.

    Calling this again does nothing.
    """
    with _install_lock:
        if CHAIN_LOCK_MIDDLEWARE not in w3.middleware_onion:
            w3.middleware_onion.inject(
                _serialized_requests(threading.RLock()), name=CHAIN_LOCK_MIDDLEWARE, layer=0
            )
