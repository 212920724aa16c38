"""Signing and sending transactions from a local key, on any EVM JSON-RPC endpoint.

Transactions are signed here (never by the node), as legacy EIP-155 transactions with
the node's gas price: that works unchanged on Anvil, Ganache, eth-tester and a Besu
QBFT network with free gas. Gas is estimated first, so a refusal is reported with the
ledger's decoded custom error before anything is sent.
"""

from __future__ import annotations

from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import TimeExhausted
from web3.types import Nonce, TxParams, TxReceipt

from backend.chain.revert import ledger_error, revert_exceptions
from backend.errors import ChainError, LedgerRevertError, NetworkError

# A contract call or deployment that can be estimated, built and called.
Callable = ContractFunction | ContractConstructor

GAS_MARGIN = 1.25
RECEIPT_TIMEOUT_S = 120.0
RECEIPT_POLL_S = 0.05


def refusal_of(exc: BaseException) -> ChainError:
    """The clearest error for a failed call: the decoded ledger error when there is one."""
    decoded = ledger_error(exc)
    if decoded is not None:
        return decoded
    return ChainError(f"the chain refused the call: {exc}")


class TransactionSender:
    """Sends contract calls signed by ``account`` and waits for their receipts."""

    def __init__(
        self, w3: Web3, account: LocalAccount, *, receipt_timeout: float = RECEIPT_TIMEOUT_S
    ) -> None:
        self.w3 = w3
        self.account = account
        self.receipt_timeout = receipt_timeout
        self._chain_id: int | None = None

    @property
    def address(self) -> ChecksumAddress:
        return ChecksumAddress(self.account.address)

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def estimate(self, function: Callable) -> int:
        """Gas for ``function`` with a safety margin; raises the decoded refusal if it would revert."""
        try:
            return int(function.estimate_gas({"from": self.address}) * GAS_MARGIN)
        except revert_exceptions() as exc:
            raise refusal_of(exc) from exc
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(f"cannot reach the chain ({type(exc).__name__})") from exc

    def build(
        self, function: Callable, *, gas: int | None = None, nonce: int | None = None
    ) -> dict[str, Any]:
        """An unsigned transaction for ``function``."""
        if nonce is None:
            nonce = self.w3.eth.get_transaction_count(self.address, "pending")
        params: TxParams = {
            "from": self.address,
            "chainId": self.chain_id,
            "gas": gas if gas is not None else self.estimate(function),
            "gasPrice": self.w3.eth.gas_price,
            "nonce": Nonce(nonce),
        }
        tx: dict[str, Any] = dict(function.build_transaction(params))
        return tx

    def transact(self, function: Callable, *, gas: int | None = None) -> TxReceipt:
        """Send ``function`` and return its successful receipt, or raise the decoded refusal."""
        try:
            tx = self.build(function, gas=gas)
            signed = self.account.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.receipt_timeout, poll_latency=RECEIPT_POLL_S
            )
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(
                f"cannot reach the chain ({type(exc).__name__})",
                hint="is the devnet running? 'tenderledger devnet status'",
            ) from exc
        except TimeExhausted as exc:
            raise NetworkError(f"no receipt within {self.receipt_timeout:.0f} s: {exc}") from exc
        except revert_exceptions() as exc:
            raise refusal_of(exc) from exc
        if receipt["status"] != 1:
            raise self._explain_failure(function, tx, receipt)
        return receipt

    def _explain_failure(self, function: Callable, tx: dict[str, Any], receipt: TxReceipt) -> ChainError:
        """Replay a reverted transaction as a call to recover its error."""
        if not isinstance(function, ContractFunction):
            return ChainError(f"transaction {receipt['transactionHash'].hex()} reverted")
        try:
            function.call(
                {"from": self.address, "gas": tx["gas"]}, block_identifier=receipt["blockNumber"] - 1
            )
        except revert_exceptions() as exc:
            error = refusal_of(exc)
            if isinstance(error, LedgerRevertError):
                return error
        return ChainError(f"transaction {receipt['transactionHash'].hex()} reverted")
