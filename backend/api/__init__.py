"""The REST API: FastAPI routes over the service layer (``create_app``)."""

from backend.api.app import create_app

__all__ = ["create_app"]
