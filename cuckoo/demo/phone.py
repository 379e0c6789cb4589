"""The demo's simulated customer phones: `cuckoo.telephony.simphone.SimPhone` with a behaviour
per call, so one customer can be busy on the first call and answer the second.

Script (JSON): {"default": {...}, "sequences": {"<user part>": [{call 1}, {call 2}, ...]}}
where each entry is a sim-phone behaviour (see cuckoo.telephony.simphone); the last entry
repeats for later calls. Run as a process (pjsua2 allows one Endpoint per process, and the
robot's call workers have their own):

    python -m cuckoo.demo.phone --script phones.json --events events.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

from cuckoo.domain import JsonObject
from cuckoo.speech.tts import espeak_synthesizer
from cuckoo.telephony.simphone import Behavior, Script, run_forever


class SequencedScript(Script):
    """A Script whose behaviour for a user advances with every call to that user."""

    def __init__(self, default: Behavior, sequences: dict[str, list[Behavior]]) -> None:
        super().__init__(default, {})
        self.sequences = sequences
        self._calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def for_user(self, user: str) -> Behavior:
        seq = self.sequences.get(user)
        if not seq:
            return self.default
        with self._lock:
            n = self._calls[user]
            self._calls[user] += 1
        return seq[min(n, len(seq) - 1)]

    @classmethod
    def from_json(cls, data: JsonObject, where: str = "script") -> SequencedScript:
        unknown = set(data) - {"default", "sequences"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)} (want default, sequences)")
        default = Behavior.from_dict(data.get("default") or {}, f"{where}: default")
        sequences = {
            str(user): [
                Behavior.from_dict(b or {}, f"{where}: sequences.{user}[{i}]")
                for i, b in enumerate(calls)
            ]
            for user, calls in (data.get("sequences") or {}).items()
        }
        return cls(default, sequences)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cuckoo.demo.phone")
    p.add_argument("--script", required=True, help="JSON: default + per-user call sequences")
    p.add_argument("--events", required=True, help="JSON-line events go here")
    p.add_argument("--port", type=int, default=0, help="SIP port (0: any free port)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    script = SequencedScript.from_json(
        json.loads(Path(args.script).read_text("utf-8")), args.script
    )
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    with open(args.events, "a", encoding="utf-8") as events:
        return run_forever(script, args.port, events, speak=espeak_synthesizer().synthesize)


def _exit_with_parent(parent: int) -> None:
    """Stop (as on SIGTERM) when the process that started us is gone, so a killed demo or test
    leaves no phone behind."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    raise SystemExit(main())
