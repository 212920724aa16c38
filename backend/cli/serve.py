"""``tenderledger serve``: the REST API on 127.0.0.1 (other interfaces only with --public)."""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING, Annotated

import typer

from backend.cli.app import RpcUrlOption, app, console_err, settings_of
from backend.errors import UsageError

if TYPE_CHECKING:
    from backend.settings import Settings


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything


def serve_api(settings: Settings, *, public: bool = False) -> None:
    """Serve the API on ``settings.api_host:api_port`` until interrupted.

    A host other than loopback is refused unless ``public`` is given.
    """
    from backend.settings import KEY_PASSWORD_ENV

    host, port = settings.api_host, settings.api_port
    if not is_loopback(host) and not public:
        raise UsageError(
            f"{host} is not a loopback address: the API would be reachable from other machines",
            hint="put it behind a TLS proxy and pass --public if that is what you want",
        )
    if settings.key_password is None and not any(
        name.startswith(KEY_PASSWORD_ENV + "_") for name in os.environ
    ):
        console_err.print(
            f"warning: neither {KEY_PASSWORD_ENV}_<AGENCY> nor {KEY_PASSWORD_ENV} is set: "
            "anchoring through the API will fail (the server cannot prompt for keystore passwords)"
        )
    import uvicorn

    from backend.api import create_app

    console_err.print(f"tenderledger API on http://{host}:{port} (docs at /docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000)")] = None,
    public: Annotated[bool, typer.Option("--public", help="Allow an interface other than loopback")] = False,
    rpc_url: RpcUrlOption = None,
) -> None:
    """Serve the workbench at / and the REST API (OpenAPI at /docs) until interrupted."""
    settings = settings_of(ctx, rpc_url=rpc_url)
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["api_host"] = host
    if port is not None:
        overrides["api_port"] = port
    serve_api(settings.model_copy(update=overrides), public=public)
