"""`converse`: what a telephony worker calls to run a scenario on a live call.

Plain dicts in and out so the worker process needs nothing but this function and a `Line`:

    request = {
        "scenario": "documents_sent",        # name of a file in scenarios_dir
        "variables": {...},                  # the notification's variables
        "timezone": "Asia/Yekaterinburg",    # the customer's IANA zone (default Europe/Moscow)
        # optional:
        "scenarios_dir": "/srv/cuckoo/scenarios",  # default: scenarios_dir of cuckoo.toml
                                             # ($CUCKOO_CONFIG or ./cuckoo.toml)
        "now": "2026-11-19T07:00:00+00:00",  # the clock at the start (tests, demo clock)
        "speech_available": True,            # default: the line has a recognizer_factory
        "operator": "+74951234567",          # for `transfer: operator`
        "day_parts": {"morning": "9:00"},    # default: [speech.day_parts] of cuckoo.toml
    }

Other keys (id, phone, attempt_no, ... as cuckoo.telephony.pool sends them) are ignored.
    → {"outcome": "confirmed", "dtmf": "1", "transcript": "", "callback_at": ISO UTC or None,
       "said": [...], "sms_text": None or str, "heard": True, "detail": ""}

An invalid scenario raises ConfigError (the robot never runs one); variables that do not fit
the scenario's texts raise InputError before anything is said (check them at ingestion with
cuckoo.dialog.check_variables so that this never happens on a live call).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


def _scenarios_dir(request: dict[str, Any]) -> Path:
    if request.get("scenarios_dir"):
        return Path(request["scenarios_dir"])
    from cuckoo import config

    cfg = config.load()
    return cfg.path(cfg.scenarios_dir)


def _day_parts(request: dict[str, Any]) -> Any:
    from cuckoo.speech.nlu import DayParts

    if "day_parts" in request:
        return DayParts.from_mapping(request["day_parts"] or {}, where="request.day_parts")
    from cuckoo import config

    return DayParts.from_mapping(config.load().speech.day_parts, where="speech.day_parts")


def _speech_available(line: Line, request: dict[str, Any]) -> bool:
    if "speech_available" in request:
        return bool(request["speech_available"])
    # SipLine gets a recognizer factory only when a Vosk model is loaded.
    return getattr(line, "recognizer_factory", None) is not None


def converse(line: Line, request: dict[str, Any]) -> dict[str, Any]:
    scenario = load_named(_scenarios_dir(request), request["scenario"])
    result = run_dialog(
        scenario,
        line,
        dict(request.get("variables") or {}),
        now=clock_from(request.get("now")),
        tz=request.get("timezone") or "Europe/Moscow",
        speech_available=_speech_available(line, request),
        operator=request.get("operator"),
        day_parts=_day_parts(request),
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
        "detail": result.detail,
    }
