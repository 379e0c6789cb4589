"""The application: pages at /, the API at /api/v1, /healthz and /metrics, local static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cuckoo.web.api import build_api
from cuckoo.web.context import WebContext
from cuckoo.web.ops import add_ops_routes
from cuckoo.web.pages import build_pages
from cuckoo.web.security import LoginNeeded

STATIC = Path(__file__).parent / "static"

# No page is ever framed, sniffed or allowed a script from elsewhere.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        b"script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (a plain ASGI middleware: streams stay streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(ctx: WebContext) -> FastAPI:
    app = FastAPI(title="cuckoo", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx

    @app.exception_handler(LoginNeeded)
    async def to_login(request: Request, exc: LoginNeeded) -> Response:
        return RedirectResponse("/login", status_code=303)

    add_ops_routes(app, ctx)
    app.mount("/api/v1", build_api(ctx))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(build_pages(ctx))
    app.add_middleware(SecurityHeaders)
    return app
