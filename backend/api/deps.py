"""Every dependency of the API's routes, declared once.

Routes name what they need (``BackendDep``, ``GatewayDep``, ``AgencyDep``,
``NoticeIntake``, ``VerifyUpload``); how each is obtained is decided here. Routes
that declare ``AgencyDep`` first check the credential before any body is read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.api.bodies import VerifyInput, notice_intake_of, verify_input_of
from backend.api.problems import ProblemError, problem
from backend.errors import TenderledgerError
from backend.service.context import Backend
from backend.service.intake import Intake
from backend.service.submission import NoticeGateway
from backend.service.tokens import agency_of_token, is_well_formed

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AgencyToken",
    bearerFormat="tl_<43 characters>",
    description="An agency's API token, from 'tenderledger agency token NAME'. Needed by write routes only.",
)


def get_backend(request: Request) -> Backend:
    """The app's Backend, its chain made safe to share between request threads."""
    state = request.app.state
    backend: Backend = state.backend
    if not state.chain_serialized:
        try:
            backend.share_between_threads()
            state.chain_serialized = True
        except TenderledgerError:
            pass  # no chain configured yet: the route that needs one reports it
    return backend


def get_gateway(request: Request) -> NoticeGateway:
    """The app's notice gateway (the one way to the chain for anchoring)."""
    gateway: NoticeGateway = request.app.state.gateway
    return gateway


BackendDep = Annotated[Backend, Depends(get_backend)]
GatewayDep = Annotated[NoticeGateway, Depends(get_gateway)]


def calling_agency(
    backend: BackendDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The agency (its name as registered on chain) whose live token came with the request.

    401 without a bearer token, and 401 ``invalid_token`` (RFC 6750) for a token that is
    unknown, revoked or expired: the three get the same answer, so that the answer does
    not tell which tokens once existed.
    """
    if credentials is None or not is_well_formed(credentials.credentials):
        raise ProblemError(
            problem(
                401,
                "this route needs an agency credential: 'Authorization: Bearer <token>'",
                advice="create a token with 'tenderledger agency token NAME'",
            ),
            headers={"WWW-Authenticate": 'Bearer realm="tenderledger"'},
        )
    agency = agency_of_token(backend.store, credentials.credentials)
    if agency is None:
        raise ProblemError(
            problem(
                401,
                "this credential is unknown, revoked or expired",
                advice="ask the operator for a new token ('tenderledger agency token NAME')",
            ),
            headers={"WWW-Authenticate": 'Bearer realm="tenderledger", error="invalid_token"'},
        )
    return agency


AgencyDep = Annotated[str, Depends(calling_agency)]
NoticeIntake = Annotated[Intake, Depends(notice_intake_of)]
VerifyUpload = Annotated[VerifyInput, Depends(verify_input_of)]
