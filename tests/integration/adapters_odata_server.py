"""A real HTTP server that answers like a 1C:Enterprise standard OData publication.

Serves, under /shop/odata/standard.odata/:
  GET   Document_ЗаказКлиента?$format=json&$filter=…&$top=&$skip=&$orderby=&$expand=Контрагент
  GET   Catalog_Контрагенты
  PATCH Document_ЗаказКлиента(guid'…')
  POST  InformationRegister_РезультатыОповещений   (replaces the record with the same
                                                    dimensions, as 1C's record manager does)
with HTTP basic auth, 1C-shaped JSON (odata.metadata, value, Ref_Key GUIDs, Cyrillic names,
"0001-01-01T00:00:00" empty dates, odata.error bodies) and fault injection: `fail_with`
(statuses answered to the next requests; None = answer normally), `delay_s` (a slow server).

The $filter grammar is the subset cuckoo sends: comparisons `Field eq|ne value` joined with
and/or, parentheses, true/false/'text'/numbers/guid'…'.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "/shop/odata/standard.odata/"
DOCUMENT = "Document_ЗаказКлиента"
CATALOG = "Catalog_Контрагенты"
REGISTER = "InformationRegister_РезультатыОповещений"
REGISTER_DIMENSIONS = ("Документ_Key", "Статус", "КоличествоПопыток")
REGISTER_RESOURCES = (
    "КодСтатуса",
    "Исход",
    "КодИсхода",
    "КоличествоКонтактов",
    "ДатаПопытки",
    "DTMF",
    "Расшифровка",
    "ПерезвонитьВ",
    "Подробности",
    "ДатаЗаписи",
)
EMPTY_DATE = "0001-01-01T00:00:00"


def guid() -> str:
    return str(uuid.uuid4())


def make_counterparty(name: str, phone: str, zone: str = "") -> dict[str, Any]:
    return {
        "Ref_Key": guid(),
        "DataVersion": "AAAAAQAAAAA=",
        "DeletionMark": False,
        "Parent_Key": "00000000-0000-0000-0000-000000000000",
        "IsFolder": False,
        "Code": f"00-{abs(hash(name)) % 100000:06d}",
        "Description": name,
        "НаименованиеПолное": name,
        "Телефон": phone,
        "ЧасовойПояс": zone,
        "Predefined": False,
        "PredefinedDataName": "",
    }


def make_order(
    number: int,
    counterparty: dict[str, Any],
    *,
    call: bool = True,
    sms: bool = False,
    scenario: str = "order_ready",
    amount: float = 12500.0,
    phone: str | None = None,
    deadline: str = EMPTY_DATE,
    deleted: bool = False,
    zone: str = "",
) -> dict[str, Any]:
    ref = guid()
    return {
        "Ref_Key": ref,
        "DataVersion": "AAAAAgAAAAA=",
        "DeletionMark": deleted,
        "Number": f"0000-{number:06d}",
        "Date": "2026-11-16T10:15:00",
        "Posted": True,
        "Контрагент_Key": counterparty["Ref_Key"],
        "Контрагент@navigationLinkUrl": f"{DOCUMENT}(guid'{ref}')/Контрагент",
        "Телефон": counterparty["Телефон"] if phone is None else phone,
        "ЧасовойПояс": zone,
        "СуммаДокумента": amount,
        "ВалютаДокумента_Key": "b6c9e0a1-3f1d-11e6-80c1-00155d0a0a00",
        "УведомитьЗвонком": call,
        "УведомитьСМС": sms,
        "СценарийОповещения": scenario,
        "СрокОповещения": deadline,
        "Комментарий": "",
    }


class FakeOneC:
    """The data and knobs of the server; tests read and change them directly."""

    def __init__(self, username: str = "robot", password: str = "секрет") -> None:
        self.username = username
        self.password = password
        self.lock = threading.Lock()
        self.counterparties: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.register: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.fail_with: deque[int | None] = deque()  # None: answer normally
        self.delay_s = 0.0
        self.requests: list[tuple[str, str]] = []  # (method, path) as received
        self.base_url = ""

    def add_order(self, order: dict[str, Any]) -> str:
        with self.lock:
            self.orders[order["Ref_Key"]] = order
        return str(order["Ref_Key"])

    def add_counterparty(self, c: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.counterparties[c["Ref_Key"]] = c
        return c


# ---- $filter subset -----------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>'(?:[^']|'')*')|(?P<guid>guid'[0-9a-fA-F-]+')"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[\w/]+))",
    re.UNICODE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bad $filter near {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos] == " ":
            pos += 1
    return out


def compile_filter(text: str) -> Any:
    """$filter text → predicate(row) -> bool. Raises ValueError on what 1C would refuse."""
    toks = _tokens(text)
    i = 0

    def peek() -> tuple[str, str] | None:
        return toks[i] if i < len(toks) else None

    def take() -> tuple[str, str]:
        nonlocal i
        if i >= len(toks):
            raise ValueError("unexpected end of $filter")
        i += 1
        return toks[i - 1]

    def value(tok: tuple[str, str]) -> Any:
        kind, v = tok
        if kind == "str":
            return v[1:-1].replace("''", "'")
        if kind == "guid":
            return v[5:-1]
        if kind == "num":
            return float(v)
        if v in ("true", "false"):
            return v == "true"
        raise ValueError(f"expected a value, got {v!r}")

    def comparison() -> Any:
        tok = take()
        if tok[0] == "lp":
            inner = disjunction()
            if take()[0] != "rp":
                raise ValueError("missing )")
            return inner
        field = tok[1]
        op = take()[1]
        rhs = value(take())
        if op not in ("eq", "ne"):
            raise ValueError(f"operator {op!r} is not supported here")

        def pred(row: dict[str, Any]) -> bool:
            if field not in row:
                raise KeyError(field)
            lhs = row[field]
            lhs = float(lhs) if isinstance(lhs, int | float) and not isinstance(lhs, bool) else lhs
            return (lhs == rhs) if op == "eq" else (lhs != rhs)

        return pred

    def conjunction() -> Any:
        parts = [comparison()]
        while (t := peek()) is not None and t[1] == "and":
            take()
            parts.append(comparison())
        return lambda row: all(p(row) for p in parts)

    def disjunction() -> Any:
        parts = [conjunction()]
        while (t := peek()) is not None and t[1] == "or":
            take()
            parts.append(conjunction())
        return lambda row: any(p(row) for p in parts)

    pred = disjunction()
    if i != len(toks):
        raise ValueError(f"unexpected {toks[i][1]!r} in $filter")
    return pred


# ---- HTTP ---------------------------------------------------------------------------------
def _handler(state: FakeOneC) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, code: str = "-1") -> None:
            headers = {"WWW-Authenticate": 'Basic realm="1C"'} if status == 401 else None
            body = {"odata.error": {"code": code, "message": {"lang": "ru", "value": message}}}
            self._send_json(status, body, headers)

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            with state.lock:
                state.requests.append((method, path))
                injected = state.fail_with.popleft() if state.fail_with else None
                delay = state.delay_s
            if delay:
                time.sleep(delay)
            if not self._authorized():
                self._error(401, "Не удалось выполнить аутентификацию")
                return
            if injected is not None:
                self._error(injected, "Внутренняя ошибка сервера 1С:Предприятия")
                return
            if not path.startswith(PREFIX):
                self._error(404, "Не найдено")
                return
            resource = path[len(PREFIX) :]
            body = json.loads(raw_body.decode("utf-8")) if raw_body else None
            with state.lock:
                self._route(method, resource, query, body)

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return False
            try:
                user, _, pw = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return user == state.username and pw == state.password

        def _route(self, method: str, resource: str, query: dict[str, str], body: Any) -> None:
            metadata = f"{state.base_url}$metadata#"
            m = re.fullmatch(r"(\w+)\(guid'([0-9a-fA-F-]+)'\)", resource)
            if method == "GET" and resource in (DOCUMENT, CATALOG):
                table = state.orders if resource == DOCUMENT else state.counterparties
                rows = [dict(r) for r in table.values()]
                if "$filter" in query:
                    try:
                        pred = compile_filter(query["$filter"])
                        rows = [r for r in rows if pred(r)]
                    except (ValueError, KeyError) as e:
                        self._error(400, f"Ошибка разбора параметра $filter: {e}", "6")
                        return
                if "$orderby" in query:
                    rows.sort(key=lambda r: str(r.get(query["$orderby"], "")))
                skip = int(query.get("$skip", 0))
                top = int(query.get("$top", len(rows)))
                rows = rows[skip : skip + top]
                if query.get("$expand") == "Контрагент" and resource == DOCUMENT:
                    for r in rows:
                        r["Контрагент"] = dict(state.counterparties[r["Контрагент_Key"]])
                self._send_json(200, {"odata.metadata": metadata + resource, "value": rows})
            elif method == "PATCH" and m and m.group(1) == DOCUMENT:
                order = state.orders.get(m.group(2))
                if order is None:
                    self._error(404, "Объект не найден", "9")
                    return
                unknown = [k for k in body if k not in order]
                if unknown:
                    self._error(400, f"Неизвестное свойство: {unknown[0]}", "15")
                    return
                order.update(body)
                self._send_json(200, {"odata.metadata": metadata + DOCUMENT + "/@Element", **order})
            elif method == "POST" and resource == REGISTER:
                allowed = set(REGISTER_DIMENSIONS) | set(REGISTER_RESOURCES)
                unknown = [k for k in body if k not in allowed]
                if unknown:
                    self._error(400, f"Неизвестное свойство: {unknown[0]}", "15")
                    return
                key = tuple(body.get(k) for k in REGISTER_DIMENSIONS)
                state.register[key] = dict(body)
                self._send_json(201, {"odata.metadata": metadata + REGISTER + "/@Element", **body})
            else:
                self._error(404, f"Не найден ресурс {resource}", "3")

    return Handler


class OneCServer:
    """`with OneCServer() as srv:` → srv.url is the OData base URL, srv.state the data."""

    def __init__(self, state: FakeOneC | None = None) -> None:
        self.state = state or FakeOneC()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}{PREFIX}"
        self.state.base_url = self.url
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> OneCServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)
