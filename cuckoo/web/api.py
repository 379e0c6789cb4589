"""The HTTP API, /api/v1: an ERP that cannot be polled pushes its notifications here and reads
their results; every request carries `Authorization: Bearer TOKEN` (`cuckoo tokens create`),
and a token sees its own tenant only (another tenant's id is 404, as a missing one).

The notifications it takes belong to the `[adapters.NAME] type = "api"` of the token's tenant:
their results go through the outbox to that adapter, which posts them to the tenant's webhook
(adapters/api.py).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, and
# `Caller`/`Who` are local to the builder.

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cuckoo.domain import CancelResult, ChannelKind, IncomingNotification, JsonObject, Status
from cuckoo.store.browse import NotificationQuery
from cuckoo.store.cancels import BY_API
from cuckoo.web.context import WebContext
from cuckoo.web.security import ApiCaller, bearer_token
from cuckoo.web.views import attempt_json, notification_json

PAGE_MAX = 500


class NewNotification(BaseModel):
    """POST /api/v1/notifications. The same external_id again gives the same notification."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=100)
    scenario: str = Field(min_length=1, max_length=100)
    variables: JsonObject = {}
    channel: ChannelKind = ChannelKind.CALL
    not_before: datetime | None = None
    deadline: datetime | None = None
    timezone: str | None = None
    consent: str = Field(default="", max_length=500)

    @field_validator("not_before", "deadline")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("give a time zone offset, e.g. 2026-12-05T10:00:00+03:00")
        return v


class NewBatch(BaseModel):
    """POST /api/v1/notifications/batch: up to BATCH_MAX in one transaction."""

    model_config = ConfigDict(extra="forbid")

    notifications: list[NewNotification] = Field(min_length=1, max_length=1000)


class Created(BaseModel):
    id: int
    status: str
    created: bool


def _unprocessable(field: str, msg: str) -> JSONResponse:
    loc = ["body", field] if field else ["body"]
    return JSONResponse(
        status_code=422, content={"detail": [{"loc": loc, "msg": msg, "type": "value_error"}]}
    )


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit():
        raise HTTPException(422, "cursor: give the next_cursor of the previous page")
    return int(cursor)


def incoming(body: NewNotification, source: str, tenant: str) -> IncomingNotification:
    return IncomingNotification(
        source=source,
        external_id=body.external_id,
        phone=body.phone,
        scenario=body.scenario,
        channel=body.channel,
        variables=body.variables,
        tenant=tenant,
        timezone=body.timezone,
        not_before=body.not_before,
        deadline=body.deadline,
        consent=body.consent,
    )


def build_api(ctx: WebContext) -> FastAPI:
    api = FastAPI(
        title="cuckoo API",
        version="1",
        openapi_url="/openapi.json",
        # Swagger UI would load its scripts from a CDN: the console serves nothing from one
        docs_url=None,
        redoc_url=None,
        description=(
            "Notifications in, results out. Authorization: Bearer TOKEN "
            "(`cuckoo tokens create --tenant T`)."
        ),
    )

    def caller(request: Request) -> ApiCaller:
        token = bearer_token(request)
        row = ctx.store.console.token_row(token) if token else None
        if row is None:
            raise HTTPException(
                401,
                "a valid API token is needed: Authorization: Bearer TOKEN",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return ApiCaller(token_id=row.id, name=row.name, tenant=row.tenant)

    Caller = Annotated[ApiCaller, Depends(caller)]

    def source_of(who: ApiCaller) -> str:
        source = ctx.api_source(who.tenant)
        if source is None:
            raise HTTPException(
                409,
                f'no [adapters.NAME] with type = "api" and tenant = "{who.tenant}" in '
                "cuckoo.toml: the API cannot take this tenant's notifications",
            )
        return source

    @api.post("/notifications", status_code=201, response_model=Created)
    def create_notification(body: NewNotification, who: Caller) -> Any:
        source = source_of(who)
        item = incoming(body, source, who.tenant)
        now = ctx.clock()
        report = ctx.store.ingest([item], now, keep_rejected=False)
        if report.rejected:
            verdict = report.rejected[0]
            if verdict.status == Status.INVALID:
                return _unprocessable(verdict.field, verdict.reason)
            # blocked, a known wrong number, too late: stored with that status, as from an ERP
            report = ctx.store.ingest([item], now, keep_rejected=True)
        if report.errors:
            return _unprocessable("", "; ".join(report.errors))
        row = ctx.store.console.notification_by_external_id(source, body.external_id, who.tenant)
        if row is None:
            raise HTTPException(409, "this external_id belongs to another tenant")
        created = report.stored > 0
        content = Created(id=row.id, status=row.status, created=created).model_dump()
        return JSONResponse(status_code=201 if created else 200, content=content)

    @api.post("/notifications/batch")
    def create_notifications(body: NewBatch, who: Caller) -> JsonObject:
        """Many notifications in one request and one transaction (an ERP's hourly export):
        one result per item, in order — its id and status, or the field that was refused.
        Idempotent like the single POST."""
        source = source_of(who)
        items = [incoming(n, source, who.tenant) for n in body.notifications]
        now = ctx.clock()
        report = ctx.store.ingest(items, now, keep_rejected=False)
        ext = [i.external_id for i in items]
        found = ctx.store.console.notifications_by_external_ids(source, ext)
        # Every item is stored now or before, except the refused ones: in order, as admitted.
        missing = [i for i in items if i.external_id not in found]
        verdicts = dict(zip([i.external_id for i in missing], report.rejected, strict=False))
        kept = [
            i for i in missing if (v := verdicts.get(i.external_id)) and v.status != Status.INVALID
        ]
        if kept:  # blocked, a known wrong number, too late: stored with that status
            ctx.store.ingest(kept, now, keep_rejected=True)
            found |= ctx.store.console.notifications_by_external_ids(
                source, [i.external_id for i in kept]
            )
        results: list[JsonObject] = []
        for item in items:
            row = found.get(item.external_id)
            if row is not None and row.tenant == who.tenant:
                results.append(
                    {
                        "external_id": item.external_id,
                        "id": row.id,
                        "status": row.status,
                        "created": row.created_at == now,
                    }
                )
                continue
            verdict = verdicts.get(item.external_id)
            field, msg = (
                (verdict.field, verdict.reason)
                if verdict
                else ("", "; ".join(report.errors) or "not stored")
            )
            results.append({"external_id": item.external_id, "error": {"field": field, "msg": msg}})
        return {"results": results}

    @api.get("/notifications/{notification_id}")
    def get_notification(notification_id: int, who: Caller) -> JsonObject:
        row = ctx.store.console.notification_for(notification_id, who.tenant)
        if row is None:
            raise HTTPException(404, "no such notification")
        out = notification_json(row)
        out["attempts_list"] = [attempt_json(a, row) for a in ctx.store.attempts_of(row.id)]
        return out

    @api.get("/notifications")
    def list_notifications(
        who: Caller,
        status: Status | None = None,
        since: datetime | None = None,
        external_id: str | None = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    ) -> JsonObject:
        if since is not None and since.tzinfo is None:
            raise HTTPException(422, "since: give a time zone offset")
        rows = ctx.store.console.notifications_page(
            NotificationQuery(
                tenant=who.tenant,
                status=status.value if status else None,
                created_from=since,
                external_id=external_id,
                before_id=_decode_cursor(cursor),
                limit=limit,
            )
        )
        return {
            "items": [notification_json(r) for r in rows],
            "next_cursor": str(rows[-1].id) if len(rows) == limit else None,
        }

    @api.post("/notifications/{notification_id}/cancel")
    def cancel_notification(notification_id: int, who: Caller) -> JsonObject:
        row = ctx.store.console.notification_for(notification_id, who.tenant)
        if row is None:
            raise HTTPException(404, "no such notification")
        now = ctx.clock()
        result = ctx.store.cancel_notification(row.id, reason=BY_API, now=now)
        if result in (CancelResult.CANCELLED, CancelResult.AFTER_CALL):
            ctx.store.console.audit(
                who.actor, "cancel", f"notification {row.id}", result.value, now
            )
        after = ctx.store.console.notification_for(row.id, who.tenant)
        assert after is not None
        return {"id": row.id, "result": result.value, "status": after.status}

    @api.get("/attempts")
    def list_attempts(
        who: Caller,
        since: datetime | None = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    ) -> JsonObject:
        if since is not None and since.tzinfo is None:
            raise HTTPException(422, "since: give a time zone offset")
        pairs = ctx.store.console.attempts_since(who.tenant, since, _decode_cursor(cursor), limit)
        return {
            "items": [attempt_json(a, n) for a, n in pairs],
            "next_cursor": str(pairs[-1][0].id) if len(pairs) == limit else None,
        }

    return api
