"""Decoding the ledger's custom errors into names, arguments and advice."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode

from backend.chain.artifacts import load_artifact
from backend.core.hashing import keccak256
from backend.errors import LedgerRevertError

try:  # the in-process chain's own revert exception
    from eth_tester.exceptions import TransactionFailed as _TesterRevert
except ImportError:  # pragma: no cover
    _TesterRevert = None

from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

# Exceptions by which some provider reports a reverted call or transaction.
REVERT_EXCEPTIONS: tuple[type[BaseException], ...] = tuple(
    t for t in (ContractCustomError, ContractLogicError, Web3RPCError, _TesterRevert) if t is not None
)

# What each refusal means for the person who sent the notice.
ADVICE: dict[str, str] = {
    "ZeroDigest": "the digest is zero: nothing was computed",
    "EmptyField": "the ocid, release id, agency name or batch label is empty",
    "FieldTooLong": "a text field is longer than the ledger accepts (256 bytes)",
    "UnknownStage": "the stage code is not one the ledger knows",
    "InvalidSeal": "the seal is malformed or malleable (high s)",
    "UnknownSealKey": "the seal was not made by a registered agency key (wrong signer, chain or contract)",
    "RevokedSealKey": "the agency key that sealed this notice has been revoked",
    "UnauthorizedSubmitter": "the sending account is neither the sealing key nor a registered relayer",
    "NoticeAlreadyAnchored": "this exact notice is already on the ledger",
    "DigestConflict": "this (ocid, release id) is already anchored with other content: OCDS releases are "
    "immutable, publish a new release id instead",
    "DigestAlreadyAnchored": "the same content is already anchored under another (ocid, release id)",
    "ProcessOfOtherAgency": "the process belongs to another agency",
    "DeadlineNotPassed": "the tender's submission deadline has not passed yet",
    "DeadlinePassed": "the submission deadline has already passed and cannot be moved",
    "ProcessCancelled": "the tender was cancelled",
    "DeadlineAfterAward": "the deadline declared falls after an award or contract already on the ledger",
    "BatchAlreadyAnchored": "this batch root is already on the ledger",
    "BadNoticeCount": "the number of notices in the call is out of range",
    "LengthMismatch": "notices and seals differ in number",
    "AgencyAlreadyRegistered": "an agency with this name is already registered",
    "UnknownAgency": "no agency has this id",
    "SealKeyAlreadyRegistered": "this key is already (or was once) a seal key",
    "ZeroAddress": "the zero address cannot be a seal key",
    "OcidPrefixOfOtherAgency": "the ocid falls under a prefix reserved for another agency: publish "
    "under your own prefix",
    "OcidPrefixAlreadyReserved": "this ocid prefix is already reserved",
    "BadOcidPrefix": "an ocid prefix reads scheme-publisher, lowercase, e.g. ocds-213czf",
    "PreviousNotAnchored": "the release this notice amends (amendsReleaseID) is not on the ledger in this "
    "process: anchor it first",
    "TenderAfterAmendment": "a tender notice cannot follow an amendment of the same process",
    "DeadlineInPast": "a deadline can only be moved to a time after the current block",
    "AccessControlUnauthorizedAccount": "the sending account lacks the role this needs",
}


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
    return LedgerRevertError(decoded.name, decoded.args, hint=ADVICE.get(decoded.name))
