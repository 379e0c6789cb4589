"""The trunk pool over real SIP on loopback: two sim phones stand for two trunks.

- calls go to the first trunk by priority, with the caller id the customer always sees;
- trunk A dies mid-run (SIGKILL): the call that finds it dead fails over to B at once, A is
  taken out after `failures` in a row, and every notification is delivered exactly once;
- a full trunk (its channel limit) hands the next call to the other one;
- a trunk whose registration fails is left alone: calls go to the other one.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from telephony_helpers import REPO, EspeakSpeech, SimPhoneProc, WaitForKey, notification

from cuckoo.config.telephony import FailoverSettings, TelephonySettings, TrunkSettings
from cuckoo.domain import Outcome
from cuckoo.telephony.pool import CallChannel, CallPool, WorkerSpec

pytestmark = [pytest.mark.sip, pytest.mark.slow]

TESTS_DIR = str(Path(__file__).resolve().parents[1])
PRESS_1 = {"answer_after_s": 0.2, "dtmf": [{"at_s": 0.6, "keys": "1", "method": "rfc2833"}]}


def phone(workdir: Path, name: str) -> SimPhoneProc:
    return SimPhoneProc({"default": PRESS_1}, workdir, name=name)


def channel_for(settings: TelephonySettings) -> CallChannel:
    spec = WorkerSpec(
        settings=settings, converse=WaitForKey(), speech=EspeakSpeech(), extra_sys_path=(TESTS_DIR,)
    )
    return CallChannel(settings, CallPool(settings, spec)).start()


def answered_users(p: SimPhoneProc) -> Counter[str]:
    return Counter(e["user"] for e in p.events() if e["event"] == "answered")


def number_of(remote: str) -> str:
    """'<sip:+74950000001@127.0.0.1>' → 'sip:+74950000001': the caller id shown."""
    return remote.strip("<>").split("@")[0]


def incoming(p: SimPhoneProc) -> list[dict[str, Any]]:
    return [e for e in p.events() if e["event"] == "incoming"]


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[SimPhoneProc, SimPhoneProc]]:
    a, b = phone(tmp_path, "trunk-a"), phone(tmp_path, "trunk-b")
    yield a, b
    for p in (a, b):
        if p.proc.poll() is None:
            p.stop()


def settings_for(a: int, b: int, **kw: Any) -> TelephonySettings:
    trunk_a = kw.pop("trunk_a", {})
    trunk_b = kw.pop("trunk_b", {})
    return TelephonySettings(
        bind_host="127.0.0.1",
        workers=1,
        calls_per_worker=4,
        ring_timeout_s=5,
        setup_timeout_s=1.5,
        calls_per_second=50,
        trunks={
            "a": TrunkSettings(domain=f"127.0.0.1:{a}", priority=0, **trunk_a),
            "b": TrunkSettings(domain=f"127.0.0.1:{b}", priority=1, **trunk_b),
        },
        **kw,
    )


def test_a_dying_trunk_loses_no_call_and_places_none_twice(
    two: tuple[SimPhoneProc, SimPhoneProc],
) -> None:
    a, b = two
    settings = settings_for(
        a.port,
        b.port,
        failover=FailoverSettings(failures=2, cooldown_s=600),
        caller_ids={"default": ["+74950000001", "+74950000002"]},
    )
    phones = [f"+7916000000{i}" for i in range(10)]
    channel = channel_for(settings)
    try:
        results = [
            channel.deliver(notification(p, i + 1, wait_s=4)) for i, p in enumerate(phones[:3])
        ]
        a.kill()  # mid-run: the next calls find nobody at A's address
        results += [
            channel.deliver(notification(p, i + 4, wait_s=4)) for i, p in enumerate(phones[3:])
        ]
        status = channel.trunks.status()
    finally:
        channel.close()
    assert [r.outcome for r in results] == [Outcome.CONFIRMED] * 10, results
    users = phones
    on_a, on_b = answered_users(a), answered_users(b)
    assert set(on_a) == set(users[:3]) and set(on_b) == set(users[3:])
    assert on_a + on_b == Counter(users)  # every customer answered exactly one call
    # the two calls that found A dead went to B at once; then A was out of service
    assert "failed over from a" in results[3].detail and "failed over from a" in results[4].detail
    assert not any("failed over" in r.detail for r in results[5:])
    assert status["a"].startswith("out of service") and status["b"].startswith("in service")
    # the same customer sees the same number whichever trunk carried the call
    shown = {e["user"]: number_of(e["remote"]) for e in incoming(a) + incoming(b)}
    assert set(shown) == set(users)
    assert all(v in ("sip:+74950000001", "sip:+74950000002") for v in shown.values()), shown
    assert len(set(shown.values())) == 2  # the pool is used


def test_stable_caller_id_and_the_first_trunk_by_priority(
    two: tuple[SimPhoneProc, SimPhoneProc],
) -> None:
    a, b = two
    pool = ["+74950000001", "+74950000002", "+74950000003"]
    settings = settings_for(a.port, b.port, trunk_a={"caller_ids": pool})
    channel = channel_for(settings)
    try:
        for n in range(2):
            for i, p in enumerate(["+79160000001", "+79160000002", "+79160000003"]):
                r = channel.deliver(notification(p, 10 * n + i + 1, wait_s=4))
                assert r.outcome == Outcome.CONFIRMED, r
    finally:
        channel.close()
    assert not incoming(b)  # priority 0 carried everything
    seen: dict[str, set[str]] = {}
    for e in incoming(a):
        seen.setdefault(e["user"], set()).add(number_of(e["remote"]))
    assert all(len(v) == 1 for v in seen.values()), seen  # called twice, one number each


def test_a_full_trunk_hands_the_next_call_to_the_other(
    two: tuple[SimPhoneProc, SimPhoneProc],
) -> None:
    a, b = two
    settings = settings_for(a.port, b.port, trunk_a={"max_calls": 1})
    channel = channel_for(settings)
    try:
        with ThreadPoolExecutor(2) as ex:
            futs = [
                ex.submit(channel.deliver, notification(p, i + 1, wait_s=4))
                for i, p in enumerate(["+79160000011", "+79160000012"])
            ]
            time.sleep(0.1)
            results = [f.result(60) for f in futs]
    finally:
        channel.close()
    assert all(r.outcome == Outcome.CONFIRMED for r in results), results
    assert len(incoming(a)) == 1 and len(incoming(b)) == 1


class RefusingRegistrar:
    """A registrar on loopback UDP that answers every request 403 Forbidden (a trunk that
    rejects our credentials), echoing the headers RFC 3261 says a response copies."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            lines = data.decode(errors="replace").split("\r\n")
            if not lines[0].startswith("REGISTER"):
                continue
            self.requests += 1
            copied = [
                line
                for line in lines[1:]
                if line.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")
            ]
            reply = "\r\n".join(["SIP/2.0 403 Forbidden", *copied, "Content-Length: 0", "", ""])
            self.sock.sendto(reply.encode(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def test_a_trunk_whose_registration_fails_is_left_alone(
    two: tuple[SimPhoneProc, SimPhoneProc],
) -> None:
    a, b = two
    registrar = RefusingRegistrar()
    settings = settings_for(
        a.port,
        b.port,
        trunk_a={
            "registrar": f"sip:127.0.0.1:{registrar.port}",
            "username": "u",
            "password": "p",
        },
    )
    channel = channel_for(settings)
    try:
        deadline = time.monotonic() + 10
        while "registration lost" not in channel.trunks.status()["a"]:
            assert time.monotonic() < deadline, channel.trunks.status()
            time.sleep(0.1)
        r = channel.deliver(notification("+79160000021", 1, wait_s=4))
    finally:
        channel.close()
        registrar.close()
    assert registrar.requests >= 1
    assert r.outcome == Outcome.CONFIRMED, r
    assert not incoming(a) and len(incoming(b)) == 1


def test_cuckoo_call_through_a_named_trunk(
    two: tuple[SimPhoneProc, SimPhoneProc], tmp_path: Path
) -> None:
    a, b = two
    toml = tmp_path / "cuckoo.toml"
    toml.write_text(
        '[telephony]\nbind_host = "127.0.0.1"\nsetup_timeout_s = 3\n'
        f'[telephony.trunks.a]\ndomain = "127.0.0.1:{a.port}"\npriority = 0\n'
        f'[telephony.trunks.b]\ndomain = "127.0.0.1:{b.port}"\npriority = 1\n'
        'caller_ids = ["+74950000009"]\n'
    )

    def call(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "cuckoo.cli.main",
                "-c",
                str(toml),
                "call",
                "+79160000031",
                "--wait-dtmf",
                "3",
                "--json",
                *extra,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=90,
        )

    out = call("--trunk", "b")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["outcome"] == "confirmed"
    assert not incoming(a) and [number_of(e["remote"]) for e in incoming(b)] == ["sip:+74950000009"]
    out = call()  # the first by priority
    assert out.returncode == 0, out.stderr
    assert len(incoming(a)) == 1
    wrong = call("--trunk", "c")
    assert wrong.returncode == 1 and "--trunk c: no such trunk" in wrong.stderr
    assert "a, b" in wrong.stderr
