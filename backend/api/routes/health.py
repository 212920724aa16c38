"""``GET /health``: chain reachable and matching the deployment, store reachable, outbox backlog."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from backend.api.deps import BackendDep, GatewayDep
from backend.api.models import ChainCheck, Health, HealthChecks, StoreCheck
from backend.api.problems import (
    UNHEALTHY,
    HealthProblem,
    ProblemError,
    problem_responses,
    problem_type,
    title_of,
)
from backend.service.health import check_health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    summary="Service health (public)",
    responses=problem_responses(503, models={503: HealthProblem}),
)
def health(backend: BackendDep, gateway: GatewayDep) -> Health:
    """200 when the chain, the ledger and the store all check out; 503 with every check otherwise."""
    report = check_health(backend, anchoring_worker=gateway.worker_alive)
    checks = HealthChecks(
        chain=ChainCheck(**asdict(report.chain)),
        store=StoreCheck(**asdict(report.store)),
        anchoring_worker=report.anchoring_worker,
    )
    if not report.healthy:
        raise ProblemError(
            HealthProblem(
                type=problem_type(UNHEALTHY),
                title=title_of(UNHEALTHY, 503),
                status=503,
                detail="; ".join(report.problems),
                checks=checks,
            )
        )
    return Health(status="ok", checks=checks)
