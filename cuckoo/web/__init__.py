"""The web console and the HTTP API (`cuckoo web`, `[web] listen` in `cuckoo run`).

FastAPI on uvicorn; pages are rendered on the server from Jinja templates (templates/) with a
little local JS (static/), nothing from a CDN. Everything reads and writes through
cuckoo.store.Store; who may see what is decided in `security` (roles, tenants, CSRF, the login
limiter) and nowhere else.

- `app`: the application: `create_app(WebContext)`;
- `context`: what the routes share (store, config, clock, the API's adapters by tenant);
- `security`: sessions, roles, tenants, CSRF, API tokens, the login limiter;
- `passwords`: argon2 hashes;
- `pages`: the console's pages; `api`: /api/v1; `ops`: /healthz and /metrics;
- `views`: rows → what a page or the API shows (local times, Russian names);
- `server`: uvicorn, the loopback rule, serving inside `cuckoo run`.
"""

from cuckoo.errors import ConfigError


def need_web() -> None:
    """Raise ConfigError naming the extra when the web packages are not installed."""
    try:
        import argon2  # noqa: F401  (only a check: the console imports them itself)
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise ConfigError(
            f"the web console needs pip install 'cuckoo[web]' ({e.name} is missing)"
        ) from e
