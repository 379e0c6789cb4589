"""Helpers for the telephony tests: a sim-phone in its own process, signal correlation."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.line import Expect, Line, ReplyKind
from cuckoo.line.leg import CallRequest, ConversationResult
from cuckoo.line.speech import RecognizerFactory, Synthesizer
from cuckoo.speech.tts import espeak_synthesizer

REPO = Path(__file__).resolve().parents[1]

# Debian puts servers (kamailio) in the sbin folders, which a non-root user's PATH lacks.
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def find_tool(name: str) -> str | None:
    """The path of an installed program: on PATH, else in the sbin folders."""
    found = shutil.which(name)
    if found:
        return found
    return shutil.which(name, path=os.pathsep.join(SBIN_DIRS))


def kamailio_modules_dir() -> str:
    """Debian's kamailio module folder for this machine's architecture."""
    dirs = sorted(Path("/usr/lib").glob("*/kamailio/modules"))
    return f"{dirs[0]}/" if dirs else "/usr/lib/x86_64-linux-gnu/kamailio/modules/"


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SimPhoneProc:
    """`cuckoo sim-phone` as a child process, with its JSON-line events."""

    def __init__(self, script: dict[str, Any], workdir: Path, name: str = "sim") -> None:
        self.workdir = workdir
        self.script_path = workdir / f"{name}-script.json"
        self.events_path = workdir / f"{name}-events.jsonl"
        self.script_path.write_text(json.dumps(script))
        self.events_path.write_text("")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cuckoo.cli.main",
                "sim-phone",
                "--port",
                "0",
                "--script",
                str(self.script_path),
                "--events",
                str(self.events_path),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / f"{name}-stderr.log", "w"),  # noqa: SIM115
        )
        ready = self.wait_event("ready", timeout=15)
        self.port = int(ready["port"])

    def uri(self, user: str) -> str:
        return f"sip:{user}@127.0.0.1:{self.port}"

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.events_path.read_text().splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def wait_event(self, event: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events():
                if e["event"] == event and all(e.get(k) == v for k, v in match.items()):
                    return e
            if self.proc.poll() is not None and event != "stopped":
                raise AssertionError(f"sim-phone exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise AssertionError(f"no {event} {match} event from sim-phone: {self.events()}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        return int(self.proc.returncode)


def pcm_of(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float64)


def best_correlation(sent: np.ndarray, received: np.ndarray) -> tuple[float, int]:
    """(Pearson correlation at the best alignment, lag in samples) of `sent` inside
    `received`. G.711 over loopback keeps it above 0.9; unrelated audio stays near 0."""
    n = len(received) + len(sent)
    size = 1 << (n - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(received, size) * np.conj(np.fft.rfft(sent, size)), size)
    lag = int(np.argmax(xc[: len(received)]))
    seg = received[lag : lag + len(sent)]
    ref = sent[: len(seg)]
    if len(seg) < len(sent) // 2 or np.std(seg) == 0 or np.std(ref) == 0:
        return 0.0, lag
    return float(np.corrcoef(ref, seg)[0, 1]), lag


@dataclass(frozen=True)
class WaitForKey:
    """A conversation for pool tests (picklable, importable in worker processes): say nothing,
    wait for a key; the notification's `wait_s` variable says how long (default 5 s)."""

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        n = request.notification
        wait_s = float(n.variables.get("wait_s", 5)) if n is not None else 5.0
        reply = line.listen(Expect(speech=False, no_speech_timeout_s=wait_s))
        digits = reply.digits if reply.kind == ReplyKind.DTMF else ""
        outcome = Outcome.CONFIRMED if digits == "1" else Outcome.DELIVERED
        return ConversationResult(outcome, dtmf=digits, detail=reply.kind.value)


class LoggingWaitForKey(WaitForKey):
    """WaitForKey that logs a line first (in the call worker process: the log tests)."""

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        logging.getLogger("tests.conversation").info("conversation starts")
        return super().__call__(line, request)


@dataclass(frozen=True)
class EspeakSpeech:
    """A call worker's speech for tests: espeak-ng, no recognizer (keys only)."""

    def __call__(self) -> tuple[Synthesizer | None, RecognizerFactory | None]:
        return espeak_synthesizer(), None


def notification(
    phone: str, n: int = 1, scenario: str = "documents_sent", **variables: Any
) -> Notification:
    return Notification(
        id=n,
        source="test",
        external_id=str(n),
        tenant="default",
        phone=phone,
        phone_raw=phone,
        channel=ChannelKind.CALL,
        scenario=scenario,
        variables=variables,
        timezone="Europe/Moscow",
        attempt_no=1,
        contacts=0,
    )


# Thursday 2026-11-19, 10:00 in Moscow: the clock the scenario tests over SIP start at.
SCENARIO_NOW = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)


def scenario_request(uri: str, scenario: str, variables: dict[str, Any]) -> CallRequest:
    """A request to run `scenario` with these variables on a call to `uri`."""
    n = notification(uri, scenario=scenario, **variables)
    return CallRequest(uri, n, now=SCENARIO_NOW)


def call_request(uri: str, **variables: Any) -> CallRequest:
    """A request to call `uri` for a notification with these variables."""
    return CallRequest(uri, notification(uri, **variables))


def matched_fraction(
    sent: np.ndarray,
    received: np.ndarray,
    *,
    chunk_s: float = 0.5,
    min_corr: float = 0.85,
    rate: int = 8000,
) -> float:
    """Share of the voiced 0.5 s chunks of `sent` found in `received` with correlation
    ≥ `min_corr`, each at its own alignment. Unlike one global correlation it tolerates the
    frame slips a jitter buffer makes when two media clocks drift (or the machine is busy),
    yet unrelated audio scores ~0."""
    n = int(chunk_s * rate)
    loud = np.sqrt(np.mean(sent**2)) * 0.3
    found = total = 0
    for i in range(0, len(sent) - n + 1, n):
        chunk = sent[i : i + n]
        if np.sqrt(np.mean(chunk**2)) < loud:
            continue  # a pause: nothing to recognize it by
        total += 1
        corr, _ = best_correlation(chunk, received)
        found += corr >= min_corr
    return found / total if total else 0.0


class CachedEspeakSpeech:
    """espeak-ng behind a phrase cache in `folder`: the voice counts its cache hits."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __call__(self) -> tuple[Synthesizer | None, RecognizerFactory | None]:
        from cuckoo.speech.tts.cache import PhraseCache  # the worker process builds it

        synth = espeak_synthesizer()
        synth.cache = PhraseCache(Path(self.folder))
        return synth, None


class GreetThenWaitForKey(WaitForKey):
    """Says one fixed phrase (the voice's cache serves it from the second call on), then
    waits for a key like WaitForKey."""

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        line.say("Здравствуйте!")
        return super().__call__(line, request)
