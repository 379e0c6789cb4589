"""Runs smsc.js (a real SMPP server process, node + the npm `smpp` package) for tests and
benchmarks, and reads its events.

    with Smsc.start() as smsc:
        smsc.port ...
        smsc.set(throttle_count=3)
        ev = smsc.wait_for("message", lambda e: e["dest"] == "79123456789")

Installs the npm package on first use if node_modules is missing:
    npm ci --prefix tests/sms_smsc --no-audit --no-fund
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NPM_INSTALL = ["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"]


class SmscUnavailable(RuntimeError):
    pass


def ensure_installed() -> None:
    if (HERE / "node_modules" / "smpp").is_dir():
        return
    if not shutil.which("node") or not shutil.which("npm"):
        raise SmscUnavailable(
            "node and npm are needed for the test SMSC (apt-get install nodejs npm)"
        )
    subprocess.run(NPM_INSTALL, check=True, capture_output=True, timeout=300)


class Smsc:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []  # every event so far, in order
        self._cond = threading.Condition()
        self._stats: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port: int = self.wait_for("listening", timeout=20)["port"]

    @classmethod
    def start(cls, port: int = 0) -> Smsc:
        ensure_installed()
        proc = subprocess.Popen(
            ["node", str(HERE / "smsc.js"), str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        return cls(proc)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev.get("event") == "stats":
                self._stats.put(ev)
            with self._cond:
                self.events.append(ev)
                self._cond.notify_all()

    def command(self, cmd: str, **kw: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kw}) + "\n")
        self.proc.stdin.flush()

    def set(self, **behaviour: Any) -> None:
        n = len(self.of("set"))
        self.command("set", **behaviour)
        self.wait_count("set", n + 1)

    def down(self) -> None:
        n = len(self.of("down"))
        self.command("down")
        self.wait_count("down", n + 1)

    def up(self) -> None:
        n = len(self.of("listening"))
        self.command("up")
        self.wait_count("listening", n + 1)

    def stats(self, timeout: float = 10) -> dict[str, Any]:
        self.command("stats")
        return self._stats.get(timeout=timeout)

    def of(
        self, kind: str, pred: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e.get("event") == kind and (pred is None or pred(e))]

    def wait_for(
        self,
        kind: str,
        pred: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 15,
    ) -> dict[str, Any]:
        return self.wait_count(kind, 1, pred, timeout)[-1]

    def wait_count(
        self,
        kind: str,
        count: int,
        pred: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 15,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    e for e in self.events if e.get("event") == kind and (pred is None or pred(e))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(
                        f"SMSC: waited {timeout} s for {count} {kind!r} events, got {len(found)}"
                    )
                self._cond.wait(min(left, 0.5))

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)

    def __enter__(self) -> Smsc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
