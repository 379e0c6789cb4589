"""`cuckoo users` and `cuckoo tokens` as an admin runs them: real processes over a real store;
the token alone on stdout, passwords only from stdin, every change in the audit log; and
`cuckoo run` serving the console when [web] listen is set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from web_helpers import free_port

from cuckoo.config import load
from cuckoo.store import Store
from cuckoo.worker.store import open_store

REPO = Path(__file__).resolve().parents[2]


def cuckoo(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CUCKOO_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def setup(tmp_path: Path, extra: str = "") -> None:
    (tmp_path / "cuckoo.toml").write_text(
        f'scenarios_dir = "{REPO / "scenarios"}"\nvoices_dir = "{REPO / "voices"}"\n{extra}',
        encoding="utf-8",
    )
    assert cuckoo(tmp_path, "db", "upgrade").returncode == 0


def test_users_and_tokens(tmp_path: Path) -> None:
    setup(tmp_path)
    add = cuckoo(
        tmp_path,
        "users",
        "add",
        "anna",
        "--role",
        "manager",
        "--tenant",
        "acme",
        "--password-stdin",
        stdin="long enough 1\n",
    )
    assert add.returncode == 0 and "added user anna: manager, tenant acme" in add.stdout
    short = cuckoo(
        tmp_path, "users", "add", "bob", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1 and "--password-stdin: the password is shorter" in short.stderr
    no_tenant = cuckoo(
        tmp_path,
        "users",
        "add",
        "vera",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="long enough 2\n",
    )
    assert no_tenant.returncode == 1 and "--tenant" in no_tenant.stderr
    listed = cuckoo(tmp_path, "users", "list", "--json")
    assert '"name": "anna"' in listed.stdout and "long enough" not in listed.stdout

    made = cuckoo(tmp_path, "tokens", "create", "--tenant", "acme", "--name", "crm")
    assert made.returncode == 0
    token = made.stdout.strip()
    assert made.stdout == token + "\n" and token.startswith("ck_") and len(token) > 40
    store = Store(f"sqlite:///{tmp_path / 'var' / 'cuckoo.sqlite'}")
    try:
        row = store.console.token_row(token)
        assert row is not None and (row.tenant, row.name) == ("acme", "crm")
        assert token not in (tmp_path / "var" / "cuckoo.sqlite").read_bytes().decode("latin-1")
        assert cuckoo(tmp_path, "tokens", "revoke", str(row.id)).returncode == 0
        assert store.console.token_row(token) is None
        assert cuckoo(tmp_path, "tokens", "revoke", str(row.id)).returncode == 1
        assert cuckoo(tmp_path, "users", "remove", "anna").returncode == 0
        assert cuckoo(tmp_path, "users", "remove", "anna").returncode == 1
        actions = [a.action for a in reversed(store.console.audit_log())]
        assert actions == ["user added", "token created", "token revoked", "user removed"]
    finally:
        store.close()


def test_run_serves_the_console_when_listen_is_set(tmp_path: Path) -> None:
    port = free_port()
    setup(tmp_path, f'[web]\nlisten = "127.0.0.1:{port}"\n')
    # the dry run's channels as a factory: a worker that runs, without SIP
    run = ["run", "--channel", "cuckoo.worker.channels:dry_run_channels"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cuckoo.cli.main", *run],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert health is not None, "the console did not come up"
        assert health.status_code == 200 and health.json() == {"ok": True}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert "cuckoo_erp_poll_errors_total" in metrics  # the worker's own counter
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert f"web console on http://127.0.0.1:{port}" in out
    config = load(tmp_path / "cuckoo.toml")
    open_store(config).close()  # the store is fine after the stop
