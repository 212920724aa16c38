"""API tokens: agency credentials for the REST API's write routes, kept as hashes only."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from backend.store.engine import Base, Database


class ApiTokenRow(Base):
    """An agency credential for the REST API's write routes (only its hash is kept).

    ``agency`` is the agency's name exactly as registered on chain. A token is live
    until ``expires_at`` (UTC) unless revoked first.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_agency", "agency"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(256))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands back naive ones, which are UTC here)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class TokenStore(Database):
    """The API tokens of an evidence store."""

    def add_token(self, agency: str, token_sha256: str, *, expires_at: datetime) -> None:
        """Keep the hash of a token issued for ``agency``, live until ``expires_at``."""
        with self.session() as session:
            session.add(ApiTokenRow(agency=agency, token_sha256=token_sha256, expires_at=_utc(expires_at)))

    def agency_of_token(self, token_sha256: str, *, now: datetime | None = None) -> str | None:
        """The agency of a live token: known, not revoked, not expired at ``now``."""
        moment = _utc(now or datetime.now(UTC))
        with self.session() as session:
            row = session.scalar(
                select(ApiTokenRow).where(
                    ApiTokenRow.token_sha256 == token_sha256, ApiTokenRow.revoked.is_(False)
                )
            )
            if row is None or _utc(row.expires_at) <= moment:
                return None
            return row.agency

    def revoke_tokens(self, agency: str) -> tuple[int, int]:
        """Revoke every live token of ``agency``; (revoked now, tokens ever issued to it)."""
        with self.session() as session:
            rows = list(session.scalars(select(ApiTokenRow).where(ApiTokenRow.agency == agency)))
            live = [row for row in rows if not row.revoked]
            stamp = datetime.now(UTC)
            for row in live:
                row.revoked, row.revoked_at = True, stamp
            return len(live), len(rows)
