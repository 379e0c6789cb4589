"""The call leg: what the scheduler's side hands a call worker process, and what comes back.

Call workers are spawned processes, so everything here is a picklable frozen dataclass:

    CallChannel.deliver(notification)
      → CallRequest(uri, notification, now, record_path)   parent → worker (a pipe)
      → the worker dials, runs its `Conversation` over a SipLine → ConversationResult
      → CallReport (SIP facts + the conversation's result)   worker → parent
      → CallReport.attempt_result() → AttemptResult          → the store

A `Conversation` is an object (a module-level function or an instance of a module-level
class), handed to the worker once when it starts; it gets the Line and the request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from cuckoo.clock import utcnow
from cuckoo.domain import AttemptResult, Notification, Outcome
from cuckoo.line import Line
from cuckoo.line.speech import Synthesizer


@dataclass(frozen=True)
class CallRequest:
    """One call to place. `notification` is None for a one-off call (`cuckoo call`)."""

    uri: str
    notification: Notification | None = None
    now: datetime | None = None  # the scheduler's clock when the call was asked for (demo clock)
    record_path: str | None = None  # record the call here (stereo WAV)
    ring_timeout_s: float | None = None  # None: [telephony] ring_timeout_s
    # A pre-rendered first prompt (WAV), started with the first media frame; the conversation
    # must begin by playing the same file (SipLine follows it instead of starting again).
    greeting_wav: str | None = None
    trunk: str = ""  # the engine account to call through ("" the default one)
    from_uri: str = ""  # the caller id the customer sees ("" the account's)


@dataclass(frozen=True)
class ConversationResult:
    """What a conversation decided on an answered call."""

    outcome: Outcome
    dtmf: str = ""
    transcript: str = ""
    callback_at: datetime | None = None  # aware; for CALLBACK_REQUESTED
    said: tuple[str, ...] = ()
    sms_text: str | None = None  # an `sms:` step's text, sent after the call
    detail: str = ""
    path: tuple[str, ...] = ()  # the scenario's states, as visited


class Conversation(Protocol):
    """Runs on every answered call in a call worker (picklable: sent to the worker once)."""

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult: ...


@runtime_checkable
class PreparedConversation(Protocol):
    """A conversation that can get ready before the number is dialled: what it will say
    first is rendered and synthesized (into the phrase cache), so a scenario or a voice that
    fails does so before anybody answers, never into a customer's silence."""

    def prepare(self, request: CallRequest, synthesizer: Synthesizer | None) -> None:
        """Raise InputError (the row's data) or any other error (our side) to not dial."""
        ...


@dataclass(frozen=True)
class CallReport:
    """One call from dial to hang-up: the SIP facts and what the conversation decided."""

    uri: str
    outcome: Outcome
    started_at: datetime
    ended_at: datetime
    answered_at: datetime | None = None
    sip_code: int | None = None
    q850: int | None = None
    dtmf: str = ""
    transcript: str = ""
    said: tuple[str, ...] = ()
    callback_at: datetime | None = None
    sms_text: str | None = None
    detail: str = ""
    path: tuple[str, ...] = ()  # the dialog's states, as visited
    recording_path: str | None = None
    first_audio_s: float | None = None  # answer → first frame of our audio
    dtmf_reaction_s: tuple[float, ...] = ()  # key → our next audio frame, per key
    dtmf_received_at: tuple[float, ...] = ()  # time.monotonic() of each key (benchmarks)
    remote_hangup: bool = False
    codec: str = ""
    amd: str = ""  # the answering-machine verdict and why, e.g. "machine: a beep (1000 Hz)"
    # The call worker's voice so far: (phrases from its cache, phrases synthesized), counted
    # since the worker started (/metrics sums the latest of each worker).
    tts_counts: tuple[int, int] = (0, 0)
    # The attempt is over but pjsua still holds the call slot (an INVITE nobody answered at
    # all lingers until Timer B): the pool waits for the worker's "free" before reusing it.
    slot_busy: bool = False
    # Our own side refused to place the call (no free slot, a URI the stack rejects, a
    # scenario that failed before dialling): it says nothing about the trunk.
    local_failure: bool = False
    no_response: bool = False  # the far end sent no SIP response at all

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    @classmethod
    def failed(
        cls, uri: str, outcome: Outcome, detail: str, started_at: datetime | None = None
    ) -> CallReport:
        """A call that ended on our side before (or without) a conversation."""
        now = utcnow()
        return cls(uri, outcome, started_at or now, now, detail=detail, local_failure=True)

    def moved_to(self, start: datetime) -> CallReport:
        """The same call placed at `start` (e.g. on a fast demo clock); its length stays."""
        shift = start - self.started_at
        return replace(
            self,
            started_at=self.started_at + shift,
            ended_at=self.ended_at + shift,
            answered_at=self.answered_at + shift if self.answered_at else None,
        )

    def attempt_result(self) -> AttemptResult:
        return AttemptResult(
            outcome=self.outcome,
            started_at=self.started_at,
            ended_at=self.ended_at,
            answered_at=self.answered_at,
            sip_code=self.sip_code,
            q850_cause=self.q850,
            dtmf=self.dtmf,
            transcript=self.transcript,
            callback_at=self.callback_at,
            recording_path=self.recording_path,
            detail=self.detail,
            said=list(self.said),
            sms_text=self.sms_text,
            path=list(self.path),
        )
