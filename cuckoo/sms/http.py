"""Generic HTTP SMS gateway (httpx): one config shape covers the usual aggregator APIs.

Request: url / params / headers / form / body are Jinja2 templates over
    to (+79123456789), to_digits (79123456789), text, sender, secret ([sms.gateways.NAME]
    secret / secret_env / secret_file)
Answer: accepted when the status code is in ok_status and the optional JSON-path / regex checks
hold; the message id comes from id_json_path / id_regex. Connection errors, 5xx and 429 are
retried `retries` times, then the attempt is UNREACHABLE (→ NETWORK, the scheduler retries).
Receipts: the provider calls cuckoo's listener (`ReceiptWebhook`, one per process, a path per
gateway), or cuckoo polls `status_url` for each id still open.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jinja2

from cuckoo.config.sms import HttpGatewaySettings, WebhookSettings
from cuckoo.domain import JsonObject
from cuckoo.sms.gateway import ReceiptHandler, SubmitResult, SubmitState

log = logging.getLogger(__name__)

_env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)


def render(template: str, ctx: JsonObject) -> str:
    if "{{" not in template and "{%" not in template:
        return template
    return _env.from_string(template).render(**ctx)


def json_path(data: Any, path: str) -> Any:
    """Value at a dotted path ("sms.79123456789.sms_id", "items.0.id"); None if missing."""
    cur = data
    for key in path.split("."):
        if isinstance(cur, dict):
            if key not in cur:
                return None
            cur = cur[key]
        elif isinstance(cur, list) and key.lstrip("-").isdigit():
            i = int(key)
            if not -len(cur) <= i < len(cur):
                return None
            cur = cur[i]
        else:
            return None
    return cur


def _scalar(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class HttpGateway:
    """`SmsGateway` over an HTTP API. `transport` lets tests swap the wire, not the logic."""

    def __init__(
        self,
        name: str,
        settings: HttpGatewaySettings,
        *,
        webhook: ReceiptWebhook | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.url:
            raise ValueError(f"[sms.gateways.{name}] url is empty")
        self.name = name
        self.settings = settings
        self._http = httpx.Client(timeout=settings.timeout_s, transport=transport)
        self._sleep = sleep
        self._handler: ReceiptHandler | None = None
        self._open: dict[str, tuple[float, JsonObject]] = {}  # id -> (sent at, ctx): polling
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._poller: threading.Thread | None = None
        if settings.receipts == "webhook":
            if webhook is None:
                raise ValueError(f"[sms.gateways.{name}] receipts = 'webhook' needs the listener")
            webhook.route(settings.webhook_path, self.handle_webhook)
        elif settings.receipts == "poll":
            if not settings.status_url:
                raise ValueError(f"[sms.gateways.{name}] receipts = 'poll' needs status_url")
            self._poller = threading.Thread(
                target=self._poll_loop, name=f"sms-poll-{name}", daemon=True
            )
            self._poller.start()

    def set_receipt_handler(self, handler: ReceiptHandler) -> None:
        self._handler = handler

    def close(self) -> None:
        self._closed.set()
        if self._poller is not None:
            self._poller.join(timeout=self.settings.timeout_s + 1)
        self._http.close()

    # --- sending

    def send(self, to: str, text: str, sender: str) -> SubmitResult:
        s = self.settings
        ctx = {
            "to": to,
            "to_digits": to.lstrip("+"),
            "text": text,
            "sender": sender,
            "secret": s.secret,
        }
        try:
            request = self._http.build_request(
                s.method,
                render(s.url, ctx),
                params={k: render(v, ctx) for k, v in s.params.items()} or None,
                headers={k: render(v, ctx) for k, v in s.headers.items()},
                data={k: render(v, ctx) for k, v in s.form.items()} or None,
                content=render(s.body, ctx).encode("utf-8") if s.body else None,
            )
        except jinja2.TemplateError as e:
            return SubmitResult(
                SubmitState.REFUSED, error=f"[sms.gateways.{self.name}] template: {e}"
            )
        last_error = ""
        for attempt in range(s.retries + 1):
            if attempt:
                self._sleep(s.retry_delay_s * attempt)
            try:
                response = self._http.send(request)
            except httpx.HTTPError as e:
                last_error = f"{type(e).__name__}: {e}"
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            result = self.judge(response.status_code, response.text, ctx)
            if result.accepted and result.message_id and s.receipts == "poll":
                with self._lock:
                    self._open[result.message_id] = (time.monotonic(), ctx)
            return result
        return SubmitResult(
            SubmitState.UNREACHABLE, error=f"HTTP gateway {self.name} unreachable: {last_error}"
        )

    def judge(self, status_code: int, body: str, ctx: JsonObject) -> SubmitResult:
        """Pure: a provider's answer → SubmitResult."""
        s = self.settings
        data: Any = None
        if s.ok_json_path or s.id_json_path or s.error_json_path:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
        ok = status_code in s.ok_status
        if ok and s.ok_json_path:
            ok = _scalar(json_path(data, render(s.ok_json_path, ctx))) == s.ok_json_value
        if ok and s.ok_regex:
            ok = re.search(s.ok_regex, body) is not None
        if ok:
            mid = ""
            if s.id_json_path:
                mid = _scalar(json_path(data, render(s.id_json_path, ctx)))
            elif s.id_regex:
                m = re.search(s.id_regex, body)
                mid = m.group(1) if m else ""
            return SubmitResult(SubmitState.ACCEPTED, mid or None)
        error = ""
        if s.error_json_path:
            error = _scalar(json_path(data, render(s.error_json_path, ctx)))
        elif s.error_regex:
            m = re.search(s.error_regex, body)
            error = m.group(1) if m else ""
        if not error:
            error = f"HTTP {status_code}: {body[:200]}"
        return SubmitResult(SubmitState.REFUSED, error=f"{self.name} refused: {error}")

    # --- receipts

    def _report(self, message_id: str, provider_status: str) -> bool:
        """Map a provider status; report it if final. True if final."""
        final = self.settings.status_map.get(provider_status)
        if final is None:
            return False
        with self._lock:
            self._open.pop(message_id, None)
        if self._handler is not None:
            self._handler(message_id, final)
        return True

    def handle_webhook(self, fields: JsonObject, raw: str) -> str:
        """One provider callback → receipts. `fields` merges query, form and JSON body."""
        s = self.settings
        if s.webhook_regex:
            values = [v for v in fields.values() if isinstance(v, str)]
            haystack = "\n".join(values) if values else raw
            for m in re.finditer(s.webhook_regex, haystack):
                self._report(m.group("id"), m.group("status"))
        else:
            mid = _scalar(json_path(fields, s.webhook_id_field))
            status = _scalar(json_path(fields, s.webhook_status_field))
            if mid:
                self._report(mid, status)
        return s.webhook_reply

    def poll_once(self) -> int:
        """Ask the provider about every open id once; returns how many became final."""
        s = self.settings
        with self._lock:
            items = list(self._open.items())
        done = 0
        now = time.monotonic()
        for mid, (sent_at, ctx) in items:
            if now - sent_at > s.poll_give_up_s:
                with self._lock:
                    self._open.pop(mid, None)
                log.warning("SMS %s: no final status for %s; giving up", self.name, mid)
                continue
            c = {**ctx, "id": mid}
            try:
                r = self._http.request(
                    "GET",
                    render(s.status_url, c),
                    params={k: render(v, c) for k, v in s.status_params.items()} or None,
                )
            except httpx.HTTPError as e:
                log.warning("SMS %s: status poll failed: %s; polled again", self.name, e)
                return done
            status = ""
            if s.status_json_path:
                try:
                    status = _scalar(json_path(r.json(), render(s.status_json_path, c)))
                except ValueError:
                    status = ""
            elif s.status_regex:
                m = re.search(s.status_regex, r.text)
                status = m.group(1) if m else ""
            if status and self._report(mid, status):
                done += 1
        return done

    def _poll_loop(self) -> None:
        while not self._closed.wait(self.settings.poll_interval_s):
            try:
                self.poll_once()
            except Exception:
                log.exception("SMS %s: status polling failed", self.name)


class ReceiptWebhook:
    """The small HTTP listener cuckoo runs for providers' delivery callbacks.

    Each HTTP gateway registers its path; a request to an unknown path gets 404."""

    def __init__(self, settings: WebhookSettings) -> None:
        self._routes: dict[str, Callable[[JsonObject, str], str]] = {}
        routes = self._routes

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                route = routes.get(url.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                if route is None:
                    self.send_error(404)
                    return
                fields: JsonObject = {}
                for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
                    fields[k] = v
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype:
                    try:
                        body = json.loads(raw)
                        if isinstance(body, dict):
                            fields.update(body)
                    except ValueError:
                        pass
                elif "form" in ctype:
                    for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True):
                        fields[k] = v
                try:
                    reply = route(fields, raw)
                except Exception:
                    log.exception("SMS receipt webhook %s failed", url.path)
                    self.send_error(500)  # the provider retries later
                    return
                data = reply.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle
            do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("webhook: " + format, *args)

        self._server = ThreadingHTTPServer((settings.host, settings.port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sms-webhook", daemon=True
        )
        self._thread.start()

    def route(self, path: str, handler: Callable[[JsonObject, str], str]) -> None:
        if path in self._routes:
            raise ValueError(f"two SMS gateways use the receipt webhook path {path!r}")
        self._routes[path] = handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
