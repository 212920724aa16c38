"""Is this deployment fit to anchor and verify? Chain, ledger and evidence store, checked live.

The chain must answer, with the chain id of the deployment file, and hold the
ledger's code at the recorded address (``Ledger.check_deployment``); the store must
answer a query. The outbox backlog (work committed but not yet on chain) is
reported, not judged: a backlog is normal while a transaction is in flight.

The report is public, so transport errors (which name endpoints and files) go to the
log, and the report only says which check failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from backend.chain.connect import chain_id_of
from backend.chain.deployment import Deployment
from backend.errors import DeploymentMismatchError, TenderledgerError
from backend.redaction import database_url_secrets, scrub, url_secrets
from backend.service.context import Backend
from backend.store import OPEN_STATUSES

log = logging.getLogger(__name__)

BACKLOG_STATUSES = OPEN_STATUSES
"""The backlog: outbox work the chain has not taken yet."""


@dataclass(frozen=True)
class ChainHealth:
    """The chain check: reachable, chain ids found and expected, ledger address, and the problem if any."""

    reachable: bool
    chain_id: int | None
    expected_chain_id: int | None
    ledger: str | None
    problem: str | None


@dataclass(frozen=True)
class StoreHealth:
    """The evidence store check, with the count of notices not yet on chain."""

    reachable: bool
    outbox_backlog: int | None
    problem: str | None


@dataclass(frozen=True)
class HealthReport:
    """Every check; healthy when none found a problem."""

    chain: ChainHealth
    store: StoreHealth
    anchoring_worker: bool | None
    """Whether the anchoring worker runs; None when it has not been started yet."""

    @property
    def healthy(self) -> bool:
        """True when no check found a problem."""
        return (
            self.chain.problem is None and self.store.problem is None and self.anchoring_worker is not False
        )

    @property
    def problems(self) -> list[str]:
        """One sentence per failed check."""
        found = [p for p in (self.chain.problem, self.store.problem) if p]
        if self.anchoring_worker is False:
            found.append("the anchoring worker has stopped")
        return found


def check_health(backend: Backend, *, anchoring_worker: bool | None = None) -> HealthReport:
    """Check chain, ledger and store now. Never raises: every failure becomes a problem in the report."""
    return HealthReport(
        chain=_check_chain(backend), store=_check_store(backend), anchoring_worker=anchoring_worker
    )


def _check_chain(backend: Backend) -> ChainHealth:
    try:
        deployment = Deployment.load(backend.settings.deployment_path)
    except TenderledgerError as error:
        log.warning("health: %s", error.message)
        return ChainHealth(False, None, None, None, "no usable deployment file")
    expected, address = deployment.chain_id, deployment.ledger
    try:
        chain_id = chain_id_of(backend.w3)
    except Exception as exc:  # any transport failure means the same thing here
        log.warning("health: cannot reach the chain: %s", _one_line(exc, backend))
        return ChainHealth(False, None, expected, address, "cannot reach the chain")
    try:
        # The first use checks the deployment; later uses check again, as a node can be reset under us.
        ledger = backend.ledger
        ledger.check_deployment()
    except DeploymentMismatchError as error:
        # Chain ids, addresses and code hashes are public: the message can be shown as it is.
        return ChainHealth(True, chain_id, expected, address, error.message)
    except Exception as exc:
        log.warning("health: cannot check the ledger: %s", _one_line(exc, backend))
        return ChainHealth(False, chain_id, expected, address, "cannot check the ledger")
    return ChainHealth(True, chain_id, expected, ledger.address, None)


def _check_store(backend: Backend) -> StoreHealth:
    try:
        backlog = backend.store.count_outbox(BACKLOG_STATUSES)
    except (TenderledgerError, OSError) as exc:
        log.warning("health: cannot query the evidence store: %s", _one_line(exc, backend))
        return StoreHealth(False, None, "cannot query the evidence store")
    return StoreHealth(True, backlog, None)


def _one_line(exc: BaseException, backend: Backend) -> str:
    """The error on one line, short, without the secrets of the configured database and RPC URLs."""
    settings = backend.settings
    secrets = [*url_secrets(settings.rpc_url), *database_url_secrets(settings.store_url)]
    text = scrub(" ".join(str(exc).split()), secrets) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
