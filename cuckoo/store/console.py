"""What the web console and the HTTP API persist: users, browser sessions, API tokens and the
audit log of admin actions.

Secrets are never stored: a session cookie and an API token are kept as their sha256 (both are
long random strings, so a plain hash is enough), a password as the argon2 hash the caller made
(cuckoo.web.passwords). Every function takes the caller's session, i.e. runs in its
transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cuckoo.store import browse
from cuckoo.store.browse import Dashboard, Gauges, NotificationQuery
from cuckoo.store.database import Database
from cuckoo.store.models import (
    ApiTokenRow,
    AttemptRow,
    AuditRow,
    NotificationRow,
    WebSessionRow,
    WebUserRow,
)

ROLES = ("admin", "manager", "viewer")
TOKEN_PREFIX = "ck_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Users


def add_user(
    s: Session, name: str, role: str, tenant: str | None, password_hash: str, now: datetime
) -> WebUserRow:
    """A new user, or the same name with a new role, tenant and password (its sessions end)."""
    row = s.get(WebUserRow, name)
    if row is None:
        row = WebUserRow(name=name, created_at=now)
        s.add(row)
    else:
        s.execute(delete(WebSessionRow).where(WebSessionRow.user_name == name))
    row.role, row.tenant, row.password_hash = role, tenant, password_hash
    return row


def remove_user(s: Session, name: str) -> bool:
    s.execute(delete(WebSessionRow).where(WebSessionRow.user_name == name))
    res = s.execute(delete(WebUserRow).where(WebUserRow.name == name))
    return bool(res.rowcount)  # type: ignore[attr-defined]


def users(s: Session) -> list[WebUserRow]:
    return list(s.scalars(select(WebUserRow).order_by(WebUserRow.name)))


def user(s: Session, name: str) -> WebUserRow | None:
    return s.get(WebUserRow, name)


# Browser sessions


def open_session(s: Session, user_name: str, now: datetime, lifetime: timedelta) -> tuple[str, str]:
    """A new session: (the cookie's value, its CSRF token). Expired sessions are swept here."""
    s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    s.add(
        WebSessionRow(
            token_hash=digest(cookie),
            user_name=user_name,
            csrf=csrf,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return cookie, csrf


def session_user(s: Session, cookie: str, now: datetime) -> tuple[WebUserRow, WebSessionRow] | None:
    """The user of a live session cookie and the session, or None."""
    row = s.get(WebSessionRow, digest(cookie))
    if row is None or row.expires_at <= now:
        return None
    user_row = s.get(WebUserRow, row.user_name)
    return None if user_row is None else (user_row, row)


def close_session(s: Session, cookie: str) -> None:
    s.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == digest(cookie)))


# API tokens


def create_token(s: Session, tenant: str, name: str, now: datetime) -> tuple[ApiTokenRow, str]:
    """A new token for `tenant`: its row and the token itself (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(name=name, tenant=tenant, token_hash=digest(token), created_at=now)
    s.add(row)
    s.flush()
    return row, token


def token_row(s: Session, token: str) -> ApiTokenRow | None:
    """The live (not revoked) token's row, or None."""
    row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest(token)))
    return row if row is not None and row.revoked_at is None else None


def tokens(s: Session) -> list[ApiTokenRow]:
    return list(s.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)))


def revoke_token(s: Session, token_id: int, now: datetime) -> bool:
    res = s.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


# The audit log


def audit(s: Session, actor: str, action: str, target: str, detail: str, now: datetime) -> None:
    s.add(AuditRow(at=now, actor=actor, action=action, target=target, detail=detail))


def audit_log(s: Session, limit: int = 200) -> list[AuditRow]:
    """The newest entries first."""
    return list(s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)))


class ConsoleStore:
    """The store's front for the web console and the API (`Store.console`): each method one
    transaction around a function of this module or of `browse`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def notifications_page(self, query: NotificationQuery) -> list[NotificationRow]:
        with self._db.tx() as s:
            return browse.page(s, query)

    def notification_for(self, notification_id: int, tenant: str | None) -> NotificationRow | None:
        """The notification if the viewer's tenant (None: any) may see it."""
        with self._db.tx() as s:
            return browse.one(s, notification_id, tenant)

    def notification_by_external_id(
        self, source: str, external_id: str, tenant: str | None
    ) -> NotificationRow | None:
        with self._db.tx() as s:
            return browse.by_external_id(s, source, external_id, tenant)

    def notifications_by_external_ids(
        self, source: str, external_ids: list[str]
    ) -> dict[str, NotificationRow]:
        with self._db.tx() as s:
            return browse.by_external_ids(s, source, external_ids)

    def attempts_since(
        self, tenant: str | None, since: datetime | None, after_id: int | None, limit: int
    ) -> list[tuple[AttemptRow, NotificationRow]]:
        with self._db.tx() as s:
            return browse.attempts_since(s, tenant, since, after_id, limit)

    def attempt_with_notification(
        self, attempt_id: int, tenant: str | None
    ) -> tuple[AttemptRow, NotificationRow] | None:
        with self._db.tx() as s:
            return browse.attempt_with_notification(s, attempt_id, tenant)

    def dashboard(self, tenant: str | None, now: datetime, zone: ZoneInfo) -> Dashboard:
        with self._db.tx() as s:
            return browse.dashboard(s, tenant, now, zone)

    def gauges(self, now: datetime) -> Gauges:
        with self._db.tx() as s:
            return browse.gauges(s, now)

    def add_user(
        self, name: str, role: str, tenant: str | None, password_hash: str, now: datetime
    ) -> None:
        with self._db.tx() as s:
            add_user(s, name, role, tenant, password_hash, now)

    def remove_user(self, name: str) -> bool:
        with self._db.tx() as s:
            return remove_user(s, name)

    def users(self) -> list[WebUserRow]:
        with self._db.tx() as s:
            return users(s)

    def user(self, name: str) -> WebUserRow | None:
        with self._db.tx() as s:
            return user(s, name)

    def open_session(self, user_name: str, now: datetime, lifetime: timedelta) -> tuple[str, str]:
        """(cookie, csrf token) of a new browser session: open_session."""
        with self._db.tx() as s:
            return open_session(s, user_name, now, lifetime)

    def session_user(self, cookie: str, now: datetime) -> tuple[WebUserRow, WebSessionRow] | None:
        with self._db.tx() as s:
            return session_user(s, cookie, now)

    def close_session(self, cookie: str) -> None:
        with self._db.tx() as s:
            close_session(s, cookie)

    def create_token(self, tenant: str, name: str, now: datetime) -> tuple[ApiTokenRow, str]:
        with self._db.tx() as s:
            return create_token(s, tenant, name, now)

    def token_row(self, token: str) -> ApiTokenRow | None:
        with self._db.tx() as s:
            return token_row(s, token)

    def tokens(self) -> list[ApiTokenRow]:
        with self._db.tx() as s:
            return tokens(s)

    def revoke_token(self, token_id: int, now: datetime) -> bool:
        with self._db.tx() as s:
            return revoke_token(s, token_id, now)

    def audit(self, actor: str, action: str, target: str, detail: str, now: datetime) -> None:
        with self._db.tx() as s:
            audit(s, actor, action, target, detail, now)

    def audit_log(self, limit: int = 200) -> list[AuditRow]:
        with self._db.tx() as s:
            return audit_log(s, limit)
