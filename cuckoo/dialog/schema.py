"""The scenario file's shape (pydantic 2). See scenarios/documents_sent.yaml for an annotated one.

A scenario is a small state machine. Every state is a YAML mapping; which keys it has says what
it is:

    ask: ...        a question: say the prompt, wait for a key or a short spoken answer
    say: ... next:  say a text, then go on to `next`
    sms: ... next:  put an SMS text aside for this customer (sent by the SMS channel), go on
    outcome: X      end the call with outcome X (say: optional goodbye first)
    callback: WHEN  end the call asking to be called again at WHEN (say: optional read-back)
    transfer: TO    hand the call to an operator (say: optional)
    hangup: true    end the call; the outcome is what the call implied so far

Checks that need the whole scenario (unknown or unreachable states, templates, way-outs) live
in cuckoo.dialog.loader; this module only checks each field on its own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from cuckoo.domain import Outcome, Variables

# Outcomes a scenario may end with (the rest are telephony's: busy, no_answer, ...).
DIALOG_OUTCOMES: tuple[str, ...] = (
    "confirmed",
    "declined",
    "delivered",
    "callback_requested",
    "opted_out",
    "operator_requested",
    "wrong_number",  # somebody else's number: never called again for this customer
)
INTENTS: tuple[str, ...] = (
    "yes",
    "no",
    "repeat",
    "operator",
    "optout",
    "later",  # not now: cannot talk, call at another time (a named time is `time: true`)
    "wrong_number",  # not the customer's number, or not the person asked for
)
DTMF_KEYS = "0123456789*#"

# "tomorrow 10:00", "today 18:30", "in 2 days 10:00", or "answer" (the time the customer named).
TRANSFER_RE = re.compile(r"^(?:operator|\+?[0-9]{2,15}|sips?:[^\s]+)$")
CALLBACK_RE = re.compile(r"^(?:(today|tomorrow|in (\d{1,2}) days?) (\d{1,2}):(\d{2})|answer)$")


def _outcome(value: Any) -> str:
    if value not in DIALOG_OUTCOMES:
        raise ValueError(f"unknown outcome {value!r}; use one of: {', '.join(DIALOG_OUTCOMES)}")
    return str(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(_Strict):
    """One accepted answer of a question: a DTMF key, spoken intent(s), or a spoken time."""

    dtmf: str | None = None  # "1", or several keys "12"
    intent: list[str] = []  # yes / no / repeat / operator / optout
    time: bool = False  # a spoken day/time ("в пятницу в одиннадцать"); remembered as answer_time
    go: str

    @field_validator("dtmf", mode="before")
    @classmethod
    def _dtmf(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)  # `dtmf: 1` in YAML is an int
        if isinstance(v, str) and (not v or any(c not in DTMF_KEYS for c in v)):
            raise ValueError(f"DTMF keys are 0-9, * and #, got {v!r}")
        return v

    @field_validator("intent", mode="before")
    @classmethod
    def _intent(cls, v: Any) -> Any:
        items = v if isinstance(v, list) else [v]
        for item in items:
            if item not in INTENTS:
                raise ValueError(f"unknown intent {item!r}; use one of: {', '.join(INTENTS)}")
        return items

    @model_validator(mode="after")
    def _something(self) -> Answer:
        if self.dtmf is None and not self.intent and not self.time:
            raise ValueError("an answer needs dtmf, intent or time")
        return self


class PlayPart(_Strict):
    """A recorded part of a hybrid `say:` (the company's greeting, a jingle): an audio file,
    relative to the scenario's folder (cuckoo.speech.recordings reads WAV, FLAC, OGG, MP3)."""

    play: str = Field(min_length=1)


# One part of a hybrid `say:`: a text (a Jinja2 template, synthesized) or a recording.
SayPart = str | PlayPart


class SayState(_Strict):
    # A text (Jinja2 template), or a list of texts and recordings said one after the other:
    #   say: [{play: greeting.wav}, "{{ customer.first_name }}, Ваш заказ готов."]
    say: str | list[SayPart] = Field(min_length=1)
    next: str
    barge_in: bool = True  # a key pressed during the text answers the next question
    message: bool = False  # this text is the message: once heard, the call counts as a contact


class SmsState(_Strict):
    sms: str  # template of an SMS to send this customer after the call
    next: str


class AskState(_Strict):
    ask: str  # the question (template)
    answers: list[Answer] = Field(min_length=1)
    retries: int = Field(default=2, ge=0, le=5)  # asks again this many times, then on_fail
    if_silent: str = "Извините, Вас не слышно."  # said before asking again after silence
    if_unclear: str = "Извините, я не понял."  # ... after an answer that matched nothing
    reprompt: str | None = None  # what to ask again (default: the question itself)
    # One clarifying question when a spoken answer was not understood or only tentatively
    # («наверное нет»): true = the standard yes-or-no one (questions with a yes or no answer),
    # a text = this one, false = never.
    clarify: str | bool = True
    on_fail: str | None = None  # where to go when the retries are used up
    barge_in: bool = True  # the customer may answer before the question ends
    speech: bool = True  # False: keys only, even when speech recognition is available
    message: bool = False
    timeout: float = Field(default=6.0, gt=0, le=30)  # seconds of silence that count as none

    @field_validator("clarify")
    @classmethod
    def _clarify(cls, v: str | bool) -> str | bool:
        if isinstance(v, str) and not v.strip():
            raise ValueError("clarify: give the question's text, or false to never ask one")
        return v


class OutcomeState(_Strict):
    outcome: str
    say: str | None = None

    @field_validator("outcome")
    @classmethod
    def _check_outcome(cls, v: str) -> str:
        return _outcome(v)


class CallbackState(_Strict):
    callback: str  # "answer" | "tomorrow 10:00" | "today 18:00" | "in 2 days 10:00"
    say: str | None = None  # read-back; {{ callback_at | when_spoken }} is the time
    outcome: str = "callback_requested"

    @field_validator("outcome")
    @classmethod
    def _check_outcome(cls, v: str) -> str:
        return _outcome(v)

    @field_validator("callback", mode="before")
    @classmethod
    def _when(cls, v: Any) -> Any:
        if not isinstance(v, str) or not CALLBACK_RE.match(v.strip()):
            raise ValueError(
                f"callback must be 'answer', 'today HH:MM', 'tomorrow HH:MM' or "
                f"'in N days HH:MM', got {v!r}"
            )
        return v.strip()


class TransferState(_Strict):
    transfer: str  # a number or SIP URI, or "operator" for [telephony] operator
    say: str | None = None  # before the transfer
    if_failed: str | None = "Сейчас оператор не может ответить. Мы Вам перезвоним."

    @field_validator("transfer", mode="before")
    @classmethod
    def _target(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or not TRANSFER_RE.match(v.strip()):
            raise ValueError(
                f"transfer to 'operator', a phone number (+74951234567) or a SIP URI "
                f"(sip:op@pbx.local), got {v!r}"
            )
        return v.strip()


class HangupState(_Strict):
    hangup: Literal[True]
    say: str | None = None


STATE_KINDS = ("ask", "callback", "transfer", "hangup", "outcome", "sms", "say")


def state_kind(v: Any) -> str | None:
    """Which kind of state a mapping is: the first kind key present, in STATE_KINDS order."""
    if isinstance(v, BaseModel):
        return v.__class__.__name__.removesuffix("State").lower()
    if isinstance(v, dict):
        for kind in STATE_KINDS:
            if kind in v:
                return kind
    return None


def _tag(v: Any) -> str | None:
    kind = state_kind(v)
    return f"{kind} state" if kind else None


State = Annotated[
    Annotated[AskState, Tag("ask state")]
    | Annotated[SayState, Tag("say state")]
    | Annotated[SmsState, Tag("sms state")]
    | Annotated[OutcomeState, Tag("outcome state")]
    | Annotated[CallbackState, Tag("callback state")]
    | Annotated[TransferState, Tag("transfer state")]
    | Annotated[HangupState, Tag("hangup state")],
    Discriminator(
        _tag,
        custom_error_type="state_kind",
        custom_error_message="a state needs one of the keys: " + ", ".join(STATE_KINDS),
    ),
]


class Scenario(_Strict):
    name: str
    description: str = ""
    goal: str = "confirmed"  # reaching this outcome counts as confirmed (e.g. "delivered")
    variables: Variables = {}  # sample values: used by `check` and `simulate`
    sms: str | None = None  # SMS text for this notification (the SMS channel, the fallback)
    anytime: list[Answer] = []  # answers every question accepts (e.g. opt-out)
    # An answering machine answered (cuckoo.telephony.amd): hang up at once, or wait for its
    # beep and say the message once. The outcome is `voicemail` either way.
    voicemail: Literal["hangup", "leave_message"] = "hangup"
    start: str
    states: dict[str, State] = Field(min_length=1)
    # The scenario file's folder: `play:` recordings are relative to it (set by the loader).
    _folder: str = PrivateAttr(default=".")

    def set_folder(self, folder: Path) -> None:
        self._folder = str(folder)

    @property
    def folder(self) -> Path:
        return Path(self._folder)

    @field_validator("goal")
    @classmethod
    def _check_goal(cls, v: str) -> str:
        return _outcome(v)

    def message_text(self) -> str | None:
        """The message as said to an answering machine: the text of the first state marked
        `message: true` (else of the start state), if it says something."""
        marked = [s for s in self.states.values() if getattr(s, "message", False)]
        state = marked[0] if marked else self.states.get(self.start)
        if isinstance(state, SayState):
            return (
                state.say
                if isinstance(state.say, str)
                else " ".join(p for p in state.say if isinstance(p, str))
            )
        if isinstance(state, AskState):
            return state.ask
        return None

    def goal_outcome(self, reached: Outcome) -> Outcome:
        """The scenario's goal counts as confirmed."""
        return Outcome.CONFIRMED if reached.value == self.goal else reached


StateModel = AskState | SayState | SmsState | OutcomeState | CallbackState | TransferState
AnyState = StateModel | HangupState


def targets(state: AnyState, anytime: list[Answer]) -> list[tuple[str, str]]:
    """(field, state name) of every state this one can go to."""
    out: list[tuple[str, str]] = []
    if isinstance(state, SayState | SmsState):
        out.append(("next", state.next))
    elif isinstance(state, AskState):
        out += [("go", a.go) for a in state.answers]
        out += [("go", a.go) for a in anytime]
        if state.on_fail:
            out.append(("on_fail", state.on_fail))
    return out


def is_end(state: AnyState) -> bool:
    return isinstance(state, OutcomeState | CallbackState | TransferState | HangupState)
