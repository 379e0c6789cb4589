"""Serving the console: uvicorn, the loopback rule, and a server thread inside `cuckoo run`."""

from __future__ import annotations

import logging
import threading
import time

import uvicorn

from cuckoo.config.web import is_loopback, split_listen
from cuckoo.errors import ConfigError
from cuckoo.web.app import create_app
from cuckoo.web.context import WebContext

log = logging.getLogger(__name__)


def check_listen(listen: str, public: bool) -> tuple[str, int]:
    """(host, port) of `listen`; a non-loopback address needs [web] public = true, because
    the console holds customers' data and speaks plain HTTP (TLS is a proxy's job)."""
    try:
        host, port = split_listen(listen)
    except ValueError as e:
        raise ConfigError(f"[web] listen: {e}") from e
    if not is_loopback(host) and not public:
        raise ConfigError(
            f"[web] listen = {listen!r} is not a loopback address: set [web] public = true "
            "and put the console behind a TLS reverse proxy (README, 'Web console')"
        )
    return host, port


def make_server(ctx: WebContext, listen: str) -> uvicorn.Server:
    host, port = check_listen(listen, ctx.config.web.public)
    config = uvicorn.Config(
        create_app(ctx),
        host=host,
        port=port,
        log_config=None,  # cuckoo's logging, not uvicorn's own
        access_log=False,
        proxy_headers=ctx.config.web.public,  # X-Forwarded-For from the proxy in front
        server_header=False,
    )
    return uvicorn.Server(config)


def serve(ctx: WebContext, listen: str) -> None:
    """Serve until interrupted (`cuckoo web`)."""
    server = make_server(ctx, listen)
    log.info("web console on http://%s", listen)
    server.run()


class BackgroundServer:
    """The console in a thread of another process (`cuckoo run`, `cuckoo demo --serve`)."""

    def __init__(self, ctx: WebContext, listen: str) -> None:
        self.server = make_server(ctx, listen)
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self, timeout_s: float = 10.0) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError("the web console did not start (is the port taken?)")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
