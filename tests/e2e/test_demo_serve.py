"""`cuckoo demo --serve` as a newcomer runs it: the demo's real calls, then the web console on
its store with a printed address and one-time password; the calls' recordings play."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from web_helpers import free_port

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(400)]


def test_the_demo_keeps_its_console_up(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CUCKOO_CONFIG"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cuckoo.cli.main",
            "demo",
            "--plain",
            "--dir",
            str(tmp_path / "demo"),
            "--serve",
            f"127.0.0.1:{port}",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    found = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and found is None:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"Web console: (http://\S+)/\s+user: (\S+)\s+password: (\S+)", line)
    try:
        assert found is not None, "".join(seen)
        assert any("All 8 customers reached" in s for s in seen), "".join(seen)
        url, user, password = found.groups()
        with httpx.Client(base_url=url, timeout=30) as c:
            c.get("/login")
            r = c.post(
                "/login",
                data={"name": user, "password": password, "csrf": c.cookies["cuckoo_login_csrf"]},
            )
            assert r.status_code == 303
            listing = c.get("/notifications").text
            ids = sorted(set(re.findall(r'href="/notifications/(\d+)"', listing)), key=int)
            assert len(ids) == 8
            players = []
            for nid in ids:
                players += re.findall(
                    r'src="(/recordings/\d+\.wav)"', c.get(f"/notifications/{nid}").text
                )
            assert players, "no call of the demo has a recording"
            wav = c.get(players[0])
            assert wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF"
            assert len(wav.content) > 8000  # seconds of a real call, not an empty file
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert "console stopped" in rest
