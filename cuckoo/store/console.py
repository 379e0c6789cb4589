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

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cuckoo.store.models import ApiTokenRow, AuditRow, WebSessionRow, WebUserRow

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
