"""`converse`: what a telephony worker calls to run a scenario on a live call.

Plain dicts in and out so the worker process needs nothing but this function and a `Line`:

    request = {
        "scenario": "documents_sent",        # name of a file in scenarios_dir
        "scenarios_dir": "/srv/cuckoo/scenarios",
        "variables": {...},                  # the notification's variables
        "timezone": "Asia/Yekaterinburg",    # the customer's IANA zone
        "now": "2026-11-19T07:00:00+00:00",  # optional: the clock at the start (tests, demo)
        "speech_available": True,            # a Russian Vosk model is loaded
        "operator": "+74951234567",          # optional: for `transfer: operator`
    }
    → {"outcome": "confirmed", "dtmf": "1", "transcript": "", "callback_at": ISO UTC or None,
       "said": [...], "sms_text": None or str, "heard": True}

An invalid scenario raises ConfigError (the robot never runs one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cuckoo.dialog.loader import load_named
from cuckoo.dialog.runner import run_dialog
from cuckoo.line import Line


def clock_from(start_iso: str | None) -> Callable[[], datetime]:
    """The wall clock, or a clock that starts at `start_iso` (naive = UTC) and runs from there."""
    if not start_iso:
        return lambda: datetime.now(UTC)
    start = datetime.fromisoformat(start_iso)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    t0 = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - t0)


def converse(line: Line, request: dict[str, Any]) -> dict[str, Any]:
    scenario = load_named(request["scenarios_dir"], request["scenario"])
    result = run_dialog(
        scenario,
        line,
        dict(request.get("variables") or {}),
        now=clock_from(request.get("now")),
        tz=request.get("timezone") or "Europe/Moscow",
        speech_available=bool(request.get("speech_available", False)),
        operator=request.get("operator"),
    )
    return {
        "outcome": result.outcome.value,
        "dtmf": result.dtmf,
        "transcript": result.transcript,
        "callback_at": result.callback_at.astimezone(UTC).isoformat()
        if result.callback_at
        else None,
        "said": list(result.said),
        "sms_text": result.sms_text,
        "heard": result.heard,
    }
