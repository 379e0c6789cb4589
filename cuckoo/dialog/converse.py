"""`ScenarioConversation`: the conversation a call worker runs on every answered call — the
notification's scenario, played over the live line by the dialog runner.

It is built once from the config by the worker (cuckoo.worker) and sent to each call worker
process when it starts, with everything it needs (the scenario folder, the operator, what parts
of the day mean); nothing here reads cuckoo.toml.

Before the number is dialled, `prepare` loads the scenario (an invalid one on disk raises
ConfigError: the robot never runs one), runs the dialog up to its first question on a line that
only listens to what is said, and synthesizes those phrases into the phrase cache — so a broken
scenario, variables that do not fit its texts, or a voice that fails on them stop the call
before anybody answers (telephony.calls.run_call). Variables that still do not fit the texts
during the call end it as INVALID_NUMBER — the outcome whose status is INVALID (bad input) —
before anything is said: retrying cannot help, the ERP row must be fixed.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cuckoo.clock import Clock, utcnow
from cuckoo.dialog.loader import load_named
from cuckoo.dialog.runner import DialogResult, run_dialog
from cuckoo.dialog.schema import Scenario
from cuckoo.domain import Outcome, Variables
from cuckoo.errors import InputError
from cuckoo.line import Expect, Line, Reply
from cuckoo.line.audio import Audio
from cuckoo.line.leg import CallRequest, ConversationResult
from cuckoo.line.speech import Synthesizer
from cuckoo.speech import recordings
from cuckoo.speech.nlu import DayParts


def clock_from(start: datetime | None) -> Clock:
    """The wall clock, or a clock that starts at `start` (naive = UTC) and runs from there."""
    if start is None:
        return utcnow
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    t0 = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - t0)


def conversation_result(result: DialogResult) -> ConversationResult:
    return ConversationResult(
        outcome=result.outcome,
        dtmf=result.dtmf,
        transcript=result.transcript,
        callback_at=result.callback_at.astimezone(UTC) if result.callback_at else None,
        said=tuple(result.said),
        sms_text=result.sms_text,
        detail=result.detail,
        path=tuple(result.path),
    )


@dataclass(frozen=True)
class ScenarioConversation:
    scenarios_dir: Path
    operator: str = ""  # where `transfer: operator` hands the call
    day_parts: Mapping[str, str] = field(default_factory=dict)  # [speech] day_parts
    # None: speech is understood when the line has a recognizer (a Vosk model is installed)
    speech_available: bool | None = None

    def prepare(self, request: CallRequest, synthesizer: Synthesizer | None) -> None:
        """Before dialling: the scenario loads, its opening renders for these variables and
        the voice says it (into the phrase cache); any failure raises (see the module)."""
        n = request.notification
        if n is None:
            return
        scenario = load_named(self.scenarios_dir, n.scenario)
        said = opening_phrases(
            scenario,
            dict(n.variables),
            now=request.now,
            tz=n.timezone or "Europe/Moscow",
            operator=self.operator,
            day_parts=self.day_parts,
        )
        if synthesizer is not None:
            for text in said:
                synthesizer.synthesize(text)
            recordings.voice_level_dbfs(synthesizer)  # measured once, before any customer

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        n = request.notification
        if n is None:
            raise InputError("a scenario call needs a notification (scenario and variables)")
        speech = self.speech_available
        if speech is None:
            # SipLine gets a recognizer factory only when a Vosk model is loaded.
            speech = getattr(line, "recognizer_factory", None) is not None
        scenario = load_named(self.scenarios_dir, n.scenario)
        voice = getattr(line, "synthesizer", None)  # a SipLine's: recordings match its level
        level = recordings.voice_level_dbfs(voice) if voice is not None else None
        try:
            result = run_dialog(
                scenario,
                line,
                dict(n.variables),
                now=clock_from(request.now),
                tz=n.timezone or "Europe/Moscow",
                speech_available=speech,
                operator=self.operator or None,
                day_parts=DayParts.from_mapping(self.day_parts, where="speech.day_parts"),
                recording_level_dbfs=level,
            )
        except InputError as e:
            return ConversationResult(Outcome.INVALID_NUMBER, detail=f"bad input: {e}")
        return conversation_result(result)


# Set while `opening_phrases` runs the dialog on paper: the runner's lines are not logged then
# (per thread: a call worker's other calls log as usual).
_REHEARSAL: contextvars.ContextVar[bool] = contextvars.ContextVar("rehearsal", default=False)


class _NotInRehearsal(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _REHEARSAL.get()


logging.getLogger("cuckoo.dialog.runner").addFilter(_NotInRehearsal())


def opening_timeline(
    scenario: Scenario,
    variables: Variables,
    *,
    now: datetime | None = None,
    tz: str = "Europe/Moscow",
    operator: str = "",
    day_parts: Mapping[str, str] | None = None,
) -> list[str | float]:
    """What the robot plays before its first question, in order: each text rendered for
    `variables` (InputError when they do not fit), each recording as its length in seconds
    (one that cannot be read raises ConfigError, as it would on a call)."""
    opening = _OpeningLine()
    rehearsing = _REHEARSAL.set(True)  # the runner's log would tell of a call that is not one
    try:
        run_dialog(
            scenario,
            opening,
            variables,
            now=clock_from(now),
            tz=tz,
            speech_available=False,
            operator=operator or None,
            day_parts=DayParts.from_mapping(day_parts or {}, where="speech.day_parts"),
        )
    finally:
        _REHEARSAL.reset(rehearsing)
    return opening.timeline


def opening_phrases(
    scenario: Scenario,
    variables: Variables,
    *,
    now: datetime | None = None,
    tz: str = "Europe/Moscow",
    operator: str = "",
    day_parts: Mapping[str, str] | None = None,
) -> list[str]:
    """The texts of `opening_timeline`: what `prepare` renders and synthesizes before
    dialling."""
    timeline = opening_timeline(
        scenario, variables, now=now, tz=tz, operator=operator, day_parts=day_parts
    )
    return [part for part in timeline if isinstance(part, str)]


class _OpeningLine:
    """A Line that keeps what the robot plays up to its first question, where the customer
    "hangs up": texts, and recordings as their lengths."""

    def __init__(self) -> None:
        self.timeline: list[str | float] = []

    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        self.timeline.append(text)
        return None

    def play(self, audio: Audio, *, barge_in: bool = True) -> Reply | None:
        self.timeline.append(audio.duration_s)
        return None

    def listen(self, expect: Expect) -> Reply:
        return Reply.hangup()

    def hangup(self) -> None:
        pass
