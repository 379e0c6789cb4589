"""The console's pages: server-rendered HTML (templates/), forms with the session's CSRF token.

Every page needs a live session (else a redirect to /login); a viewer sees one tenant's data
or, for an admin bound to none, every tenant's. Actions that change something (cancel, the
do-not-call list) need the manager role and land in the audit log.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, and
# `Caller`/`Who` are local to the builder.

import csv
import io
import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cuckoo.domain import CancelResult, Status
from cuckoo.errors import CuckooError, InputError
from cuckoo.intake.blocklist_csv import export_csv, parse_csv
from cuckoo.intake.phones import normalize_phone
from cuckoo.store.browse import NotificationQuery
from cuckoo.store.cancels import BY_HAND
from cuckoo.store.models import NotificationRow
from cuckoo.web import charts, scenarios_view
from cuckoo.web.context import WebContext
from cuckoo.web.passwords import verify_password
from cuckoo.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginNeeded,
    Viewer,
    check_csrf,
    require_role,
    same_secret,
)
from cuckoo.web.views import Wording

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


EXPORT_MAX = 100_000


def make_env() -> Environment:
    # autoescape: everything an ERP sends (names, comments) is shown as text, never as markup
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # JSON as people read it (Cyrillic as is); escaped by autoescape like any text
    env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
    return env


def _parse_day(value: str | None, field: str, ctx: WebContext) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError as e:
        raise HTTPException(422, f"{field}: give a date as YYYY-MM-DD") from e
    return day.replace(tzinfo=ctx.zone)


def build_pages(ctx: WebContext) -> APIRouter:
    router = APIRouter()
    env = make_env()
    words = Wording(ctx.language, ctx.zone)

    def viewer(request: Request) -> Viewer:
        cookie = request.cookies.get(SESSION_COOKIE)
        found = ctx.store.console.session_user(cookie, ctx.clock()) if cookie else None
        if found is None:
            raise LoginNeeded()
        user, session = found
        return Viewer(user.name, user.role, user.tenant, session.csrf)

    Who = Annotated[Viewer, Depends(viewer)]

    def render(
        name: str, request: Request, who: Viewer | None, status: int = 200, **values: Any
    ) -> HTMLResponse:
        html = env.get_template(name).render(
            t=words, who=who, path=request.url.path, lang=words.language, **values
        )
        return HTMLResponse(html, status_code=status)

    # ---- login -------------------------------------------------------------------------

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, error: str = "") -> HTMLResponse:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        resp = render("login.html", request, None, csrf=token, error=error)
        resp.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=ctx.config.web.cookies_secure,
            path="/login",
        )
        return resp

    @router.post("/login")
    def login(
        request: Request,
        name: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        if not same_secret(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
            raise HTTPException(403, "CSRF token missing or wrong: reload the page")
        address = request.client.host if request.client else "?"
        keys = [f"user:{name.strip().lower()}", f"ip:{address}"]
        wait = ctx.limiter.retry_after(keys)
        if wait > 0:
            resp = render(
                "login.html",
                request,
                None,
                status=429,
                csrf=csrf,
                error=f"too many attempts: try again in {wait:.0f} s",
            )
            resp.headers["Retry-After"] = str(int(wait) + 1)
            return resp
        user = ctx.store.console.user(name.strip())
        if not verify_password(user.password_hash if user else None, password) or user is None:
            ctx.limiter.failed(keys)
            return render(
                "login.html",
                request,
                None,
                status=401,
                csrf=csrf,
                error="wrong user name or password",
            )
        ctx.limiter.succeeded(keys)
        lifetime = timedelta(hours=ctx.config.web.session_hours)
        cookie, _ = ctx.store.console.open_session(user.name, ctx.clock(), lifetime)
        done = RedirectResponse("/", status_code=303)
        done.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=int(lifetime.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=ctx.config.web.cookies_secure,
            path="/",
        )
        done.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return done

    @router.post("/logout")
    def logout(request: Request, who: Who, csrf: Annotated[str, Form()] = "") -> Response:
        check_csrf(who, csrf)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            ctx.store.console.close_session(cookie)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    # ---- dashboard ---------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def dashboard(request: Request, who: Who) -> HTMLResponse:
        board = ctx.store.console.dashboard(who.tenant, ctx.clock(), ctx.zone)
        days = list(board.per_day.items())
        return render(
            "dashboard.html",
            request,
            who,
            board=board,
            day_chart=charts.bars([(d[5:], c["calls"]) for d, c in days], title=words("per_day")),
            hour_chart=charts.bars(
                [(f"{h:02d}", board.per_hour.get(h, 0)) for h in range(24)],
                title=words("per_hour"),
            ),
        )

    @router.get("/live")
    def live(who: Who) -> JSONResponse:
        """Calls under way now, for the dashboard's refresh."""
        board = ctx.store.console.dashboard(who.tenant, ctx.clock(), ctx.zone)
        items = [
            {
                "id": n.id,
                "phone": n.phone,
                "scenario": n.scenario,
                "channel": n.current_channel,
                "since": words.time(n.last_attempt_at or n.updated_at),
            }
            for n in board.in_progress
        ]
        return JSONResponse({"in_progress": items})

    # ---- notifications -----------------------------------------------------------------

    def query_from(
        request: Request, who: Viewer, limit: int
    ) -> tuple[NotificationQuery, dict[str, str]]:
        p = request.query_params
        form = {
            k: p.get(k, "").strip()
            for k in ("status", "tenant", "scenario", "from", "to", "phone", "erp_id", "q")
        }
        tenant = who.tenant if who.tenant is not None else (form["tenant"] or None)
        phone, phone_raw = "", ""
        if form["phone"]:
            try:
                phone = normalize_phone(form["phone"])
            except InputError:  # not a number: searched as the ERP typed it
                phone_raw = form["phone"]
        erp_id, q = form["erp_id"], form["q"]
        if q and not q.startswith("#"):  # one box: #id (a jump), a phone or an ERP id
            try:
                phone = phone or normalize_phone(q)
            except InputError:
                erp_id = erp_id or q
        status = form["status"] if form["status"] in {s.value for s in Status} else None
        before = p.get("before", "")
        to = _parse_day(form["to"], "to", ctx)
        query = NotificationQuery(
            tenant=tenant,
            status=status,
            scenario=form["scenario"] or None,
            created_from=_parse_day(form["from"], "from", ctx),
            created_to=to + timedelta(days=1) if to else None,
            phone=phone or None,
            phone_raw=phone_raw or None,
            external_id=erp_id or None,
            before_id=int(before) if before.isdigit() else None,
            limit=limit,
        )
        return query, form

    @router.get("/notifications", response_class=HTMLResponse)
    def notifications(request: Request, who: Who) -> Response:
        query, form = query_from(request, who, PAGE_SIZE)
        q = form["q"]
        if q.startswith("#") and q[1:].isdigit():
            return RedirectResponse(f"/notifications/{int(q[1:])}", status_code=303)
        rows = ctx.store.console.notifications_page(query)
        kept = {k: v for k, v in form.items() if v}
        next_url = (
            "/notifications?" + urlencode({**kept, "before": rows[-1].id})
            if len(rows) == PAGE_SIZE
            else None
        )
        return render(
            "notifications.html",
            request,
            who,
            rows=rows,
            form=form,
            next_url=next_url,
            statuses=[s.value for s in Status],
            export_query=urlencode(kept),
            first_url="/notifications?" + urlencode(kept) if query.before_id else None,
        )

    @router.get("/notifications/{notification_id}", response_class=HTMLResponse)
    def notification(request: Request, who: Who, notification_id: int) -> HTMLResponse:
        row = ctx.store.console.notification_for(notification_id, who.tenant)
        if row is None:
            return render("not_found.html", request, who, status=404)
        attempts = ctx.store.attempts_of(row.id)
        return render(
            "notification.html",
            request,
            who,
            n=row,
            attempts=attempts,
            sms=ctx.store.sms_requests_of(row.id),
            reports=ctx.store.outbox_of(row.id),
            final=Status(row.status).is_final,
        )

    @router.post("/notifications/{notification_id}/cancel")
    def cancel(
        who: Who,
        notification_id: int,
        csrf: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(who, csrf)
        require_role(who, "manager")
        row = ctx.store.console.notification_for(notification_id, who.tenant)
        if row is None:
            raise HTTPException(404, "no such notification")
        why = BY_HAND + (f": {reason.strip()[:300]}" if reason.strip() else "")
        now = ctx.clock()
        result = ctx.store.cancel_notification(row.id, reason=why, now=now)
        if result in (CancelResult.CANCELLED, CancelResult.AFTER_CALL):
            ctx.store.console.audit(
                who.name,
                "cancel",
                f"notification {row.id} ({row.source}/{row.external_id})",
                reason.strip(),
                now,
            )
        return RedirectResponse(f"/notifications/{row.id}", status_code=303)

    @router.get("/recordings/{attempt_id}.wav")
    def recording(who: Who, attempt_id: int) -> FileResponse:
        found = ctx.store.console.attempt_with_notification(attempt_id, who.tenant)
        folder = ctx.recordings_dir()
        if found is None or not found[0].recording_path or folder is None:
            raise HTTPException(404, "no recording")
        path = Path(found[0].recording_path).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise HTTPException(404, "no recording")  # only files cuckoo wrote, still there
        return FileResponse(path, media_type="audio/wav", filename=path.name)

    # ---- export ------------------------------------------------------------------------

    def export_rows(request: Request, who: Viewer) -> Iterator[NotificationRow]:
        query, _ = query_from(request, who, 1000)
        left = EXPORT_MAX
        while left > 0:
            rows = ctx.store.console.notifications_page(query)
            yield from rows[:left]
            left -= len(rows)
            if len(rows) < query.limit:
                return
            query = NotificationQuery(**{**query.__dict__, "before_id": rows[-1].id})

    def export_header() -> list[str]:
        keys = (
            "erp_id",
            "№",
            "source",
            "tenant",
            "phone",
            "scenario",
            "status",
            "outcome",
            "attempts",
            "contacts",
            "local_time",
            "created",
            "detail",
        )
        return [words(k) for k in keys]

    def export_line(n: NotificationRow) -> list[Any]:
        return [
            n.external_id,
            n.id,
            n.source,
            n.tenant,
            n.phone or n.phone_raw,
            n.scenario,
            words.status(n.status),
            words.outcome(n.last_outcome),
            n.attempts,
            n.contacts,
            words.time(n.last_attempt_at, n.timezone),
            words.time(n.created_at),
            words.reason(n.detail),
        ]

    @router.get("/export.csv")
    def export_csv_file(request: Request, who: Who) -> StreamingResponse:
        def lines() -> Iterator[bytes]:
            yield "\ufeff".encode()  # Excel reads UTF-8 only with the BOM
            buf = io.StringIO()
            writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
            writer.writerow(export_header())
            for n in export_rows(request, who):
                writer.writerow(export_line(n))
                if buf.tell() > 64_000:
                    yield buf.getvalue().encode()
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue().encode()

        name = f"cuckoo-{ctx.clock().astimezone(ctx.zone):%Y-%m-%d}.csv"
        return StreamingResponse(
            lines(), media_type="text/csv; charset=utf-8", headers=attachment(name)
        )

    @router.get("/export.xlsx")
    def export_xlsx(request: Request, who: Who) -> Response:
        from openpyxl import Workbook  # only this page needs it

        book = Workbook(write_only=True)
        sheet = book.create_sheet(words("notifications"))
        sheet.append(export_header())
        for n in export_rows(request, who):
            sheet.append(export_line(n))
        out = io.BytesIO()
        book.save(out)
        name = f"cuckoo-{ctx.clock().astimezone(ctx.zone):%Y-%m-%d}.xlsx"
        return Response(out.getvalue(), media_type=XLSX, headers=attachment(name))

    # ---- the do-not-call list ----------------------------------------------------------

    @router.get("/blocklist", response_class=HTMLResponse)
    def blocklist(request: Request, who: Who, said: str = "") -> HTMLResponse:
        rows = ctx.store.blocked_numbers()
        return render("blocklist.html", request, who, rows=list(reversed(rows)), said=said)

    @router.post("/blocklist/add")
    def block(
        who: Who,
        phone: Annotated[str, Form()],
        csrf: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(who, csrf)
        require_role(who, "manager")
        now = ctx.clock()
        try:
            e164 = ctx.store.block(phone, reason.strip() or f"added by {who.name}", now)
        except InputError as e:
            return RedirectResponse("/blocklist?" + urlencode({"said": str(e)}), status_code=303)
        ctx.store.console.audit(who.name, "block", e164, reason.strip(), now)
        return RedirectResponse("/blocklist?" + urlencode({"said": f"+ {e164}"}), status_code=303)

    @router.post("/blocklist/remove")
    def unblock(
        who: Who, phone: Annotated[str, Form()], csrf: Annotated[str, Form()] = ""
    ) -> Response:
        check_csrf(who, csrf)
        require_role(who, "manager")
        try:
            removed = ctx.store.unblock(phone)
        except InputError as e:
            return RedirectResponse("/blocklist?" + urlencode({"said": str(e)}), status_code=303)
        if removed:
            ctx.store.console.audit(who.name, "unblock", phone, "", ctx.clock())
        return RedirectResponse("/blocklist?" + urlencode({"said": f"− {phone}"}), status_code=303)

    @router.post("/blocklist/import")
    async def block_import(
        who: Who, file: UploadFile, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        check_csrf(who, csrf)
        require_role(who, "manager")
        raw = await file.read(10_000_000)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1251", errors="replace")
        lines = parse_csv(text, default_reason=f"imported from {file.filename}")
        good = [(b.phone, b.reason) for b in lines if b.phone]
        bad = [f"{file.filename}:{b.line}: {b.error}" for b in lines if not b.phone]
        now = ctx.clock()
        added = ctx.store.block_many(good, now)
        ctx.store.console.audit(
            who.name,
            "block import",
            str(file.filename),
            f"{len(good)} numbers, {added} new, {len(bad)} skipped",
            now,
        )
        said = f"{file.filename}: {len(good)} numbers, {added} new, {len(bad)} lines skipped"
        said += "".join(f"\n{b}" for b in bad[:20])
        return RedirectResponse("/blocklist?" + urlencode({"said": said}), status_code=303)

    @router.get("/blocklist.csv")
    def block_export(who: Who) -> Response:
        rows = [(r.phone, r.reason, r.created_at) for r in ctx.store.blocked_numbers()]
        return Response(
            export_csv(rows).encode(),
            media_type="text/csv; charset=utf-8",
            headers=attachment("do-not-call.csv"),
        )

    # ---- scenarios ---------------------------------------------------------------------

    @router.get("/scenarios", response_class=HTMLResponse)
    def scenarios(request: Request, who: Who) -> HTMLResponse:
        return render("scenarios.html", request, who, items=scenarios_view.listing(ctx.config))

    @router.get("/scenarios/{name}", response_class=HTMLResponse)
    def scenario(request: Request, who: Who, name: str) -> HTMLResponse:
        try:
            view = scenarios_view.detail(ctx.config, name)
        except CuckooError as e:
            return render("not_found.html", request, who, status=404, why=str(e))
        return render("scenario.html", request, who, sc=view)

    @router.get("/scenarios/{name}/listen/{state}.wav")
    def listen(who: Who, name: str, state: str) -> Response:
        try:
            wav = scenarios_view.spoken(ctx.config, name, state)
        except CuckooError as e:
            raise HTTPException(404, str(e)) from e
        return Response(wav, media_type="audio/wav")

    # ---- the audit log -----------------------------------------------------------------

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, who: Who) -> HTMLResponse:
        require_role(who, "admin")
        return render("audit.html", request, who, rows=ctx.store.console.audit_log(500))

    return router
