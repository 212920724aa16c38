"""One exception tree for tenderledger.

Every failure a user can meet is a :class:`TenderledgerError`. Each says what went
wrong (``str(error)``, one line) and what to do about it (:meth:`diagnostics`).
The command line maps :attr:`exit_code` to its exit status: 2 for bad input, usage
or configuration, 3 when the chain cannot be used (unreachable, not the deployed
ledger, a refusal), 1 for everything else. Exit 1 from ``verify`` and ``anchor``
thus always means a notice failed, never that the check could not run.
"""

from __future__ import annotations


class TenderledgerError(Exception):
    """Base of every error tenderledger raises on purpose."""

    exit_code = 1
    hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__

    def diagnostics(self) -> str:
        """A short text for people: the problem, then what to do."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


# ---------------------------------------------------------------- input


class InputError(TenderledgerError):
    """The input (a file, a request body, an argument) cannot be used as given."""

    exit_code = 2


class MalformedJSONError(InputError):
    """Bytes that are not strict JSON: bad syntax, duplicate keys, NaN, bad UTF-8, ..."""


class CanonicalizationError(InputError):
    """A JSON value that RFC 8785 cannot canonicalize (e.g. a non-finite number)."""


class NoticeFormatError(InputError):
    """JSON that is not an OCDS release, release package or record package."""


class SchemaValidationError(InputError):
    """A release that fails the OCDS 1.1 release schema."""


class UsageError(InputError):
    """A command or option used in a way that cannot work."""


# ---------------------------------------------------------------- configuration


class ConfigurationError(TenderledgerError):
    """Settings, deployment file or environment that do not fit together."""

    exit_code = 2


class KeystoreError(TenderledgerError):
    """A seal keystore that is missing, unreadable, or locked with another password."""

    exit_code = 2


class SchemaUnavailableError(ConfigurationError):
    """The pinned OCDS release schema is not installed."""


# ---------------------------------------------------------------- chain


class ChainError(TenderledgerError):
    """Anything that went wrong while talking to the chain."""

    exit_code = 3


class NodeBinaryMissingError(ChainError):
    """The devnet node program (Anvil or Ganache) is not installed."""


class NetworkError(ChainError):
    """The JSON-RPC endpoint cannot be reached or keeps failing."""


class DeploymentMismatchError(ChainError):
    """The chain or the code at the ledger address is not what the deployment file says."""


class LedgerRevertError(ChainError):
    """The ledger contract refused a transaction; ``reason`` is the decoded custom error."""

    def __init__(
        self, reason: str, args: dict[str, object] | None = None, *, hint: str | None = None
    ) -> None:
        self.reason = reason
        self.revert_args = dict(args or {})
        detail = ", ".join(f"{k}={v}" for k, v in self.revert_args.items())
        if hint is None:  # what the refusal means for the sender, from the one table of such wording
            from backend.service.messages import refusal_advice

            hint = refusal_advice(reason) or None
        super().__init__(f"ledger refused: {reason}({detail})", hint=hint)


# ---------------------------------------------------------------- store and verification


class StoreError(TenderledgerError):
    """The evidence store cannot be opened, or holds something inconsistent."""


class VerificationError(TenderledgerError):
    """A verification could not be carried out (not: a notice failed verification)."""


# ---------------------------------------------------------------- digests and proofs


class DigestFormatError(InputError):
    """Text given as a digest that is not 64 hexadecimal digits."""


class ReceiptFormatError(InputError):
    """A document given as a receipt that is not one of the known receipt format."""


class ProofFormatError(InputError):
    """A Merkle proof (as a receipt carries it) that is not in a known, well-formed format."""


# ---------------------------------------------------------------- governance


class GovernanceRefusedError(InputError):
    """A governance request the ledger refused for what it asked (a prefix reserved for another
    agency, an unknown agency): bad input, not a broken chain. ``reason`` is the decoded error."""

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
