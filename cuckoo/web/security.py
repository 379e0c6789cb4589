"""Who may see and do what: sessions, roles, tenants, CSRF, API tokens, the login limiter.

Roles: a viewer reads; a manager also cancels notifications and keeps the do-not-call list;
an admin also sees every tenant (unless bound to one), the audit log and the users. A user of
one tenant asking for another tenant's notification gets 404, as if it did not exist.
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from dataclasses import dataclass

from fastapi import HTTPException, Request

ROLE_RANK = {"viewer": 0, "manager": 1, "admin": 2}
SESSION_COOKIE = "cuckoo_session"
LOGIN_CSRF_COOKIE = "cuckoo_login_csrf"


@dataclass(frozen=True)
class Viewer:
    """A logged-in user, as the routes see them."""

    name: str
    role: str
    tenant: str | None  # None: every tenant
    csrf: str

    def may(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


@dataclass(frozen=True)
class ApiCaller:
    token_id: int
    name: str
    tenant: str

    @property
    def actor(self) -> str:
        return f"api:{self.name or self.token_id}"


class LoginNeeded(Exception):
    """Raised by a page whose viewer has no live session: the app redirects to /login."""


class LoginLimiter:
    """At most `attempts` failed logins per key (a user name, an address) in `window_s`.
    In memory: a restart forgets, which only ever lets a few more guesses through."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, keys: list[str], now: float | None = None) -> float:
        """Seconds until a login under any of `keys` may be tried again; 0 if now."""
        t = time.monotonic() if now is None else now
        wait = 0.0
        for key in keys:
            q = self._recent(key, t)
            if len(q) >= self.attempts:
                wait = max(wait, q[0] + self.window_s - t)
        return wait

    def failed(self, keys: list[str], now: float | None = None) -> None:
        t = time.monotonic() if now is None else now
        for key in keys:
            self._recent(key, t).append(t)
        if len(self._failures) > 10_000:  # a spray of names: forget the idle ones
            for key in [k for k, q in self._failures.items() if not self._recent(k, t)]:
                del self._failures[key]

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)


def same_secret(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def check_csrf(viewer: Viewer, sent: str | None) -> None:
    """Every form posts its session's token; a request from another site cannot know it."""
    if not same_secret(viewer.csrf, sent):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


def require_role(viewer: Viewer, role: str) -> None:
    if not viewer.may(role):
        raise HTTPException(403, f"this needs the {role} role")


def visible_tenant(viewer: Viewer | ApiCaller) -> str | None:
    """The tenant whose data the caller sees; None: all."""
    return viewer.tenant


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def is_loopback_client(request: Request) -> bool:
    host = request.client.host if request.client else ""
    return host in ("127.0.0.1", "::1") or host.startswith("127.")
