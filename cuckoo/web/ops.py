"""/healthz and /metrics (Prometheus text format, version 0.0.4).

/metrics is open to loopback; from elsewhere it needs `[web] metrics_token` as a Bearer token.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from cuckoo.errors import StoreUnavailable
from cuckoo.web.context import WebContext
from cuckoo.web.security import bearer_token, is_loopback_client, same_secret


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(
    out: list[str], name: str, kind: str, help_: str, values: dict[str, float], label: str
) -> None:
    out.append(f"# HELP {name} {help_}")
    out.append(f"# TYPE {name} {kind}")
    for key, v in sorted(values.items()):
        out.append(f'{name}{{{label}="{_label(key)}"}} {v:g}')


def metrics_text(ctx: WebContext) -> str:
    g = ctx.store.console.gauges(ctx.clock())
    out: list[str] = []
    live = {"call": g.in_progress.get("call", 0), "sms": g.in_progress.get("sms", 0)}
    _family(
        out,
        "cuckoo_attempts_in_progress",
        "gauge",
        "Attempts under way now, by channel.",
        dict(live),
        "channel",
    )
    _family(
        out,
        "cuckoo_attempts_total",
        "counter",
        "Finished attempts, by outcome.",
        dict(g.attempts_by_outcome),
        "outcome",
    )
    _family(
        out,
        "cuckoo_notifications",
        "gauge",
        "Notifications, by status.",
        dict(g.by_status),
        "status",
    )
    out += [
        "# HELP cuckoo_queue_due Pending notifications due now (the queue's depth).",
        "# TYPE cuckoo_queue_due gauge",
        f"cuckoo_queue_due {g.due_now}",
        "# HELP cuckoo_outbox_pending Results not yet acknowledged by their ERP or webhook.",
        "# TYPE cuckoo_outbox_pending gauge",
        f"cuckoo_outbox_pending {g.outbox_pending}",
    ]
    _family(
        out,
        "cuckoo_sms_requests",
        "gauge",
        "SMS requested during calls, by state.",
        dict(g.sms_by_state),
        "state",
    )
    if ctx.erp_poll_errors is not None:
        _family(
            out,
            "cuckoo_erp_poll_errors_total",
            "counter",
            "Failed ERP polls since the worker started, by adapter.",
            {k: float(v) for k, v in ctx.erp_poll_errors().items()},
            "adapter",
        )
    if ctx.tts_counts is not None:
        hits, synthesized = ctx.tts_counts()
        _family(
            out,
            "cuckoo_tts_phrases_total",
            "counter",
            "Phrases the call workers' voices said, from the phrase cache or synthesized.",
            {"cache": float(hits), "synthesized": float(synthesized)},
            "source",
        )
    return "\n".join(out) + "\n"


def add_ops_routes(app: FastAPI, ctx: WebContext) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        problems: dict[str, str] = {}
        try:
            ctx.store.ping()
        except StoreUnavailable as e:
            problems["store"] = str(e)
        if ctx.worker_health is not None:
            why = ctx.worker_health()
            if why:
                problems["worker"] = why
        body = {"ok": not problems, **({"problems": problems} if problems else {})}
        return JSONResponse(body, status_code=503 if problems else 200)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> PlainTextResponse:
        token = ctx.config.web.metrics_token
        if not is_loopback_client(request) and not (
            token and same_secret(bearer_token(request), token)
        ):
            raise HTTPException(404)
        return PlainTextResponse(metrics_text(ctx), media_type="text/plain; version=0.0.4")
