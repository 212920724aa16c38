"""Decoding the ledger's custom errors into names and arguments (their wording for people is in
``service.messages``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from backend.chain.artifacts import load_artifact
from backend.core.hashing import keccak256
from backend.errors import LedgerRevertError

_WEB3_REVERTS: tuple[type[BaseException], ...] = (ContractCustomError, ContractLogicError, Web3RPCError)


def revert_exceptions() -> tuple[type[BaseException], ...]:
    """Exceptions by which some provider reports a reverted call or transaction.

    The in-process chain's own exception counts only once that chain is loaded (whoever made
    one imported it): importing it here would cost every command over a second.
    """
    tester = sys.modules.get("eth_tester.exceptions")
    failed = getattr(tester, "TransactionFailed", None)
    return (*_WEB3_REVERTS, failed) if isinstance(failed, type) else _WEB3_REVERTS


@dataclass(frozen=True)
class DecodedRevert:
    name: str
    args: dict[str, Any]


@cache
def _errors_by_selector() -> dict[bytes, tuple[str, list[str], list[str]]]:
    table: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for item in load_artifact().abi:
        if item["type"] != "error":
            continue
        types = [i["type"] for i in item["inputs"]]
        names = [i["name"] for i in item["inputs"]]
        selector = keccak256(f"{item['name']}({','.join(types)})".encode())[:4]
        table[selector] = (item["name"], types, names)
    return table


def decode_revert(data: bytes) -> DecodedRevert | None:
    """The ledger error encoded in revert ``data``, or None when it is not one of ours."""
    if len(data) < 4:
        return None
    entry = _errors_by_selector().get(data[:4])
    if entry is None:
        return None
    name, types, names = entry
    try:
        values = abi_decode(types, data[4:])
    except Exception:
        return None
    return DecodedRevert(name, {n: _plain(v) for n, v in zip(names, values, strict=True)})


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def revert_data_of(exc: BaseException) -> bytes | None:
    """Revert data carried by a web3 exception, whichever shape this version gives it.

    The in-process eth-tester provider re-raises reverts with the data turned into
    text, keeping the original exception only as context: the chain is searched too.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _revert_data_here(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _revert_data_here(exc: BaseException) -> bytes | None:
    candidates: list[Any] = [getattr(exc, "data", None), *(getattr(exc, "args", ()) or ())]
    candidates += [inner.args[0] for inner in candidates if isinstance(inner, Exception) and inner.args]
    for candidate in candidates:
        if isinstance(candidate, bytes | bytearray) and len(candidate) >= 4:
            return bytes(candidate)
        if isinstance(candidate, str) and candidate.startswith("0x") and len(candidate) >= 10:
            try:
                return bytes.fromhex(candidate[2:])
            except ValueError:
                continue
        if isinstance(candidate, dict):
            # Anvil puts revert data under "data", Ganache under "result".
            for inner in (candidate.get("data"), candidate.get("result")):
                if isinstance(inner, str) and inner.startswith("0x") and len(inner) >= 10:
                    try:
                        return bytes.fromhex(inner[2:])
                    except ValueError:
                        continue
    return None


def ledger_error(exc: BaseException) -> LedgerRevertError | None:
    """A LedgerRevertError for a web3 revert exception, when its data decodes."""
    data = revert_data_of(exc)
    decoded = decode_revert(data) if data else None
    if decoded is None:
        return None
    return LedgerRevertError(decoded.name, decoded.args)
