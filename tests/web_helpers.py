"""A real console on loopback over a real store, for the web tests: users of two tenants,
API tokens, and notifications made through the API and finished as the worker would."""

from __future__ import annotations

import json
import socket
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from cuckoo.config import load
from cuckoo.demo.rig import toml_text
from cuckoo.dialog.loader import load_named
from cuckoo.domain import AttemptResult, Outcome
from cuckoo.resources import shipped
from cuckoo.store import Store
from cuckoo.web.context import WebContext
from cuckoo.web.passwords import hash_password
from cuckoo.web.server import BackgroundServer
from cuckoo.worker.store import open_store

PASSWORD = "correct horse 42"
USERS = {  # name: (role, tenant)
    "admin": ("admin", None),
    "anna": ("manager", "acme"),
    "vera": ("viewer", "acme"),
    "sasha": ("manager", "south"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample_variables(scenario: str) -> dict[str, Any]:
    """The scenario's sample variables as an ERP would send them in JSON (dates as text)."""
    variables = load_named(shipped("scenarios"), scenario).variables
    return dict(json.loads(json.dumps(variables, default=str)))


def write_wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x10" * 2 * int(seconds * rate))


@dataclass
class WebRig:
    tmp: Path
    db_url: str
    web: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # tenant → token

    def start(self) -> WebRig:
        self.port = free_port()
        self.recordings = self.tmp / "recordings"
        data = {
            "scenarios_dir": str(shipped("scenarios")),
            "voices_dir": str(shipped("voices")),
            "var_dir": str(self.tmp / "var"),
            "store": {"url": self.db_url},
            "telephony": {"record_dir": str(self.recordings)},
            "web": {"listen": f"127.0.0.1:{self.port}", **self.web},
            "adapters": {
                "crm": {"type": "api", "tenant": "acme"},
                "shop": {"type": "api", "tenant": "south"},
            },
        }
        (self.tmp / "cuckoo.toml").write_text(toml_text(data), encoding="utf-8")
        self.config = load(self.tmp / "cuckoo.toml")
        Store(self.db_url).upgrade()
        self.store = open_store(self.config)
        now = datetime.now(UTC)
        for name, (role, tenant) in USERS.items():
            self.store.console.add_user(name, role, tenant, hash_password(PASSWORD), now)
        for tenant in ("acme", "south"):
            self.tokens[tenant] = self.store.console.create_token(tenant, f"{tenant} erp", now)[1]
        self.server = BackgroundServer(
            WebContext(self.store, self.config), self.config.web.listen
        ).start()
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def stop(self) -> None:
        self.server.stop()
        self.store.close()

    def api(self, tenant: str | None = "acme") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[tenant]}"} if tenant else {}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=30)

    def login(self, name: str, password: str = PASSWORD) -> httpx.Client:
        """A browser-like client logged in as `name` (cookies kept, redirects not followed)."""
        client = httpx.Client(base_url=self.url, timeout=30)
        client.get("/login")
        r = client.post(
            "/login",
            data={"name": name, "password": password, "csrf": client.cookies["cuckoo_login_csrf"]},
        )
        assert r.status_code == 303, r.text
        return client

    def notify(
        self,
        tenant: str,
        external_id: str,
        scenario: str = "documents_sent",
        phone: str = "+79123456701",
        **variables: Any,
    ) -> int:
        body = {
            "external_id": external_id,
            "phone": phone,
            "scenario": scenario,
            "variables": {**sample_variables(scenario), **variables},
        }
        with self.api(tenant) as c:
            r = c.post("/notifications", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def finish_call(
        self, outcome: Outcome = Outcome.CONFIRMED, *, record: bool = True, **kw: Any
    ) -> int:
        """The next due notification gets one call as the worker records it; its id."""
        at = datetime.now(UTC) + timedelta(days=3)  # past any calling window's start
        [n] = self.store.claim_due("test-worker", at, 1, 60)
        recording = None
        if record:
            path = self.recordings / f"{n.id}-{n.attempt_no}.wav"
            write_wav(path)
            recording = str(path)
        self.store.finish_attempt(
            n,
            "test-worker",
            AttemptResult(
                outcome,
                at,
                at + timedelta(seconds=31),
                answered_at=at,
                sip_code=200,
                recording_path=recording,
                said=["Здравствуйте!", "Нажмите 1."],
                path=["message", "received", "thanks"],
                **kw,
            ),
            at + timedelta(seconds=31),
        )
        return n.id
