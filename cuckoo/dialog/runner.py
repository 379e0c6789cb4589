"""Run one scenario over one `Line`: say, ask, branch, end with an outcome.

Rules the runner follows (admins see them in README "Writing a scenario"):

- **The message.** States marked `message: true` carry the message; if none is marked, the start
  state does. The message counts as *heard* once such a text was said to its end, or the
  customer answered it (pressed a key or spoke during it).
- **Hang-up.** When the customer hangs up (at any point before an end state), the outcome is
  DELIVERED if the message was heard, else NO_ANSWER (no contact: the retry policy tries again
  and does not count it against the barrier). A `hangup` state ends the call by the same rule.
  Hanging up during an end state's goodbye keeps that state's outcome (the answer was given).
- **Goal.** Ending with the scenario's `goal` outcome counts as CONFIRMED (e.g. `goal:
  delivered` for a scenario that only informs).
- **Questions.** Every key press is collected (`dtmf`), every spoken answer too (`transcript`).
  A key press or words during a question's prompt (barge-in) answer it; a key pressed during a
  `say` with barge-in answers the next question. A barge-in SPEECH reply with empty text means
  "speech started" (SipLine): the runner then listens for the words. A first key of a longer
  key answer ("1" of "12") waits for the rest. Silence or an answer that matches nothing
  makes the robot say `if_silent` / `if_unclear` and ask again (`reprompt` or the question)
  up to `retries` times, then it goes to `on_fail`. A spoken "повторите" that the question
  does not map repeats the question (counted as a retry).
- **One clarifying question.** Words the NLU did not understand (intent unknown) or understood
  only tentatively (below `speech.nlu.UNSURE_BELOW`: «наверное нет») get one clarifying
  question per visit of the question, before the retries above and not counted as one: the
  question's `clarify` text, or by default `speech.nlu.clarifying_question(yes_key)` — yes or
  no, or the key of the answer whose intent is yes — on questions that take a yes or a no.
  `clarify: false` switches it off. The answer to it is taken as any answer (a tentative one
  too); a tentative answer with no clarifying question to ask stands. Silence, keys and
  words the NLU understood firmly but the question does not take never trigger it.
- **No speech recognition** (`speech_available=False`, no Russian Vosk model): questions take
  keys only; a question that has no key answers goes straight to `on_fail`. Logged once.
- **Callback.** `callback: answer` uses the time the customer named (`answer_time`); other forms
  ("tomorrow 10:00") are computed in the customer's time zone. The time is readable in the
  state's `say` as `{{ callback_at | when_spoken }}`.
- **Transfer.** Outcome OPERATOR_REQUESTED. The call is handed over with `line.transfer(target)`
  when the Line has that (optional) capability and it succeeds; otherwise (no operator, the
  line cannot transfer, the PBX refused, or no final NOTIFY within `[telephony]
  transfer_timeout_s`) the robot says `if_failed` and hangs up, and the result's detail says
  «transfer failed: why» — the ERP gets the operator request either way.
- **Answering machine.** A MACHINE reply (SipLine's detector, cuckoo.telephony.amd) at any
  point ends the dialog with outcome VOICEMAIL (never a contact by itself: the retry policy's
  `voicemail` setting decides). With `voicemail: leave_message` the robot first waits for the
  machine's beep (`line.wait_for_beep()`, when the Line has it), says the message text once
  (the first `message: true` state's, else the start state's) and hangs up.
- A dialog that runs more than MAX_STEPS states (someone pressing "repeat" forever) ends as if
  the customer hung up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cuckoo.dialog import templates
from cuckoo.dialog.loader import check_variables, default_clarify_text
from cuckoo.dialog.schema import (
    CALLBACK_RE,
    Answer,
    AskState,
    CallbackState,
    HangupState,
    OutcomeState,
    SayPart,
    SayState,
    Scenario,
    SmsState,
    TransferState,
)
from cuckoo.domain import Outcome, Variables
from cuckoo.errors import InputError
from cuckoo.line import Expect, Line, Reply, ReplyKind
from cuckoo.speech import recordings
from cuckoo.speech.nlu import Intent, grammar_for, spoken_key, understand

log = logging.getLogger(__name__)

MAX_STEPS = 100
ALL_KEYS = "0123456789*#"
_warned_no_asr = False


@dataclass
class DialogResult:
    outcome: Outcome
    dtmf: str = ""  # every key pressed, in order
    transcript: str = ""  # every spoken answer heard, joined with " | "
    callback_at: datetime | None = None  # aware, in the customer's zone
    said: list[str] = field(default_factory=list)  # what the robot said, in order
    sms_text: str | None = None  # an `sms` state's text, to send after the call
    heard: bool = False  # the message was heard (the attempt is a contact)
    path: list[str] = field(default_factory=list)  # states visited, for logs and tests
    detail: str = ""  # e.g. why the call was taken for an answering machine


class _Machine(Exception):
    """An answering machine answered; the message says why."""


class _HungUp(Exception):
    pass


class _Run:
    def __init__(
        self,
        scenario: Scenario,
        line: Line,
        variables: Variables,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        speech: bool,
        operator: str | None,
        day_parts: Any = None,
        recording_level_dbfs: float | None = None,
    ) -> None:
        self.sc = scenario
        # `play:` recordings are brought to the voice's loudness (None: as recorded)
        self.recording_level_dbfs = recording_level_dbfs
        self.day_parts = day_parts  # cuckoo.speech.nlu.DayParts or None (its defaults)
        self.line = line
        self.now = now
        self.tz = tz
        self.speech = speech
        self.operator = operator
        self.ctx: Variables = {**variables, "speech": speech}
        self.result = DialogResult(Outcome.NO_ANSWER)
        self.transcripts: list[str] = []
        self.pending: Reply | None = None  # a barge-in reply for the next question
        marked = {n for n, s in scenario.states.items() if getattr(s, "message", False)}
        self.message_states = marked or {scenario.start}

    # -- helpers ---------------------------------------------------------------------------

    def local_now(self) -> datetime:
        t = self.now()
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return t.astimezone(self.tz)

    def render(self, text: str) -> str:
        self.ctx["now"] = self.local_now()
        return templates.render(text, self.ctx)

    def say(self, text: str, *, barge_in: bool = True, message: bool = False) -> Reply | None:
        """Say a text; returns a barge-in reply (DTMF or speech), raises _HungUp."""
        phrase = self.render(text)
        if not phrase:
            return None
        self.result.said.append(phrase)
        reply = self.line.say(phrase, barge_in=barge_in)
        if reply is not None and reply.kind == ReplyKind.HANGUP:
            raise _HungUp
        if reply is not None and reply.kind == ReplyKind.MACHINE:
            raise _Machine(reply.text)
        if message:
            self.result.heard = True  # said to its end, or answered while it was said
        if reply is not None and reply.kind in (ReplyKind.DTMF, ReplyKind.SPEECH):
            return reply
        return None

    def say_parts(
        self, say: str | list[SayPart], *, barge_in: bool = True, message: bool = False
    ) -> Reply | None:
        """A `say:` text, or a hybrid list of texts and recordings one after the other; a
        barge-in reply stops the rest."""
        if isinstance(say, str):
            return self.say(say, barge_in=barge_in, message=message)
        reply: Reply | None = None
        for part in say:
            if isinstance(part, str):
                reply = self.say(part, barge_in=barge_in)
            else:
                reply = self.play(part.play, barge_in=barge_in)
            if reply is not None:
                break
        if message:
            self.result.heard = True  # played to its end, or answered while it played
        return reply

    def play(self, file: str, *, barge_in: bool = True) -> Reply | None:
        """Play a recording of the scenario's folder; returns a barge-in reply, raises _HungUp."""
        audio = recordings.load_recording(
            self.sc.folder / file, level_dbfs=self.recording_level_dbfs
        )
        self.result.said.append(f"<{file}>")
        reply = self.line.play(audio, barge_in=barge_in)
        if reply is not None and reply.kind == ReplyKind.HANGUP:
            raise _HungUp
        if reply is not None and reply.kind == ReplyKind.MACHINE:
            raise _Machine(reply.text)
        if reply is not None and reply.kind in (ReplyKind.DTMF, ReplyKind.SPEECH):
            return reply
        return None

    def finish(self, reached: Outcome) -> DialogResult:
        self.result.outcome = self.sc.goal_outcome(reached)
        self.result.transcript = " | ".join(self.transcripts)
        return self.result

    def implied(self) -> Outcome:
        return Outcome.DELIVERED if self.result.heard else Outcome.NO_ANSWER

    # -- the machine -----------------------------------------------------------------------

    def run(self) -> DialogResult:
        name = self.sc.start
        try:
            for _ in range(MAX_STEPS):
                self.result.path.append(name)
                state = self.sc.states[name]
                is_message = name in self.message_states
                if isinstance(state, SayState):
                    reply = self.say_parts(state.say, barge_in=state.barge_in, message=is_message)
                    if reply is not None and state.barge_in:
                        self.pending = reply
                    name = state.next
                    continue
                if isinstance(state, SmsState):
                    self.result.sms_text = self.render(state.sms)
                    name = state.next
                    continue
                if isinstance(state, AskState):
                    name = self.ask(name, state, is_message)
                    continue
                self.pending = None
                return self.end(state)
            log.warning("scenario %s: more than %d steps, ending the call", self.sc.name, MAX_STEPS)
            self.line.hangup()
            return self.finish(self.implied())
        except _HungUp:
            log.info("scenario %s: the customer hung up in state %s", self.sc.name, name)
            return self.finish(self.implied())
        except _Machine as m:
            return self.voicemail(str(m), name)

    def voicemail(self, reason: str, state: str) -> DialogResult:
        log.info(
            "scenario %s: answering machine in state %s (%s): %s",
            self.sc.name,
            state,
            reason,
            "leaving the message" if self.sc.voicemail == "leave_message" else "hanging up",
        )
        self.result.detail = f"answering machine: {reason}"
        text = self.sc.message_text()
        if self.sc.voicemail == "leave_message" and text:
            wait = getattr(self.line, "wait_for_beep", None)
            if wait is None or wait():
                try:
                    self.say(text, barge_in=False)
                    self.result.detail += "; message left"
                except (_HungUp, _Machine):
                    pass
            else:
                self.result.detail += "; no beep: no message left"
        self.line.hangup()
        self.result.heard = False  # a machine heard it, not the customer
        self.result.outcome = Outcome.VOICEMAIL
        self.result.transcript = " | ".join(self.transcripts)
        return self.result

    def closing(self, text: str | None) -> bool:
        """Say an end state's text; False if the customer hung up meanwhile. The end state's
        outcome stands either way: the answer was given before the goodbye."""
        if not text:
            return True
        try:
            self.say(text, barge_in=False)
        except _HungUp:
            return False
        return True

    def end(
        self, state: OutcomeState | CallbackState | TransferState | HangupState
    ) -> DialogResult:
        if isinstance(state, OutcomeState):
            if self.closing(state.say):
                self.line.hangup()
            return self.finish(Outcome(state.outcome))
        if isinstance(state, CallbackState):
            at = self.callback_time(state.callback)
            self.result.callback_at = at
            self.ctx["callback_at"] = at
            if at is None:
                # the customer's words, not our trouble: the policy picks the time
                log.info("scenario %s: callback without an understood time", self.sc.name)
            if self.closing(state.say if at is not None else None):
                self.line.hangup()
            return self.finish(Outcome(state.outcome))
        if isinstance(state, TransferState):
            if not self.closing(state.say):
                return self.finish(Outcome.OPERATOR_REQUESTED)
            if self.transfer(state.transfer):
                return self.finish(Outcome.OPERATOR_REQUESTED)
            if self.closing(state.if_failed):
                self.line.hangup()
            return self.finish(Outcome.OPERATOR_REQUESTED)
        if self.closing(state.say):
            self.line.hangup()
        return self.finish(self.implied())

    def transfer(self, target: str) -> bool:
        """Hand the call over; False (and the result's detail says why) when it failed."""
        if target == "operator":
            if not self.operator:
                log.warning(
                    "scenario %s: transfer to 'operator' but none is configured", self.sc.name
                )
                return self.transfer_failed("no operator configured")
            target = self.operator
        do_transfer = getattr(self.line, "transfer", None)
        if do_transfer is None:
            log.info("this line cannot transfer calls; the operator request goes to the ERP")
            return self.transfer_failed("this line cannot transfer calls")
        try:
            if do_transfer(target):
                return True
        except Exception as e:
            log.exception("transfer to %s failed", target)
            return self.transfer_failed(str(e))
        # SipLine says why (refused, the new call failed, no final NOTIFY in time)
        return self.transfer_failed(str(getattr(self.line, "transfer_failure", "") or ""))

    def transfer_failed(self, why: str) -> bool:
        note = f"transfer failed: {why}" if why else "transfer failed"
        self.result.detail = f"{self.result.detail}; {note}" if self.result.detail else note
        return False

    def callback_time(self, spec: str) -> datetime | None:
        if spec == "answer":
            at = self.ctx.get("answer_time")
            return at if isinstance(at, datetime) else None
        m = CALLBACK_RE.match(spec)
        assert m is not None  # the schema checked it
        word, days, hh, mm = m.groups()
        shift = {"today": 0, "tomorrow": 1}.get(word, int(days or 0))
        day = self.local_now().date() + timedelta(days=shift)
        return datetime(day.year, day.month, day.day, int(hh), int(mm), tzinfo=self.tz)

    # -- questions -------------------------------------------------------------------------

    def ask(self, name: str, state: AskState, is_message: bool) -> str:
        answers = [*state.answers, *self.sc.anytime]
        keys = [a for a in answers if a.dtmf is not None]
        spoken = [a for a in answers if a.intent or a.time]
        listen_speech = self.speech and state.speech and bool(spoken)
        if not keys and not listen_speech:
            log.info("question %s has no key answers and speech is off: on_fail", name)
            assert state.on_fail is not None  # the loader checked it
            return state.on_fail
        expect = Expect(
            dtmf=ALL_KEYS,
            max_digits=max((len(a.dtmf or "") for a in keys), default=1),
            grammar=self.grammar(spoken, keys) if listen_speech else None,
            speech=listen_speech,
            no_speech_timeout_s=state.timeout,
        )
        tries = 0
        lead: str | None = None  # if_silent / if_unclear before asking again
        clarify = self.clarify_text(state) if listen_speech else None  # None: asked or off
        clarifying = False  # the next prompt is the clarifying question
        while True:
            reply = self.pending
            self.pending = None
            if reply is None:
                if lead:
                    self.say(lead, barge_in=False)
                if clarifying and clarify is not None:
                    reply = self.say(clarify, barge_in=state.barge_in)
                    clarify, clarifying = None, False
                else:
                    prompt = state.ask if tries == 0 or not state.reprompt else state.reprompt
                    reply = self.say(prompt, barge_in=state.barge_in, message=is_message)
            if reply is None:
                reply = self.line.listen(expect)
            else:
                reply = self.complete(reply, expect, keys)
            if reply.kind == ReplyKind.HANGUP:
                raise _HungUp
            if reply.kind == ReplyKind.MACHINE:
                raise _Machine(reply.text)
            if is_message and reply.kind in (ReplyKind.DTMF, ReplyKind.SPEECH):
                self.result.heard = True
            target, why = self.match(reply, answers, listen_speech)
            if why == "unsure":
                if clarify is not None:
                    clarifying, lead = True, None
                    continue
                why = "unclear"  # nothing to ask: a tentative answer stands, none is unclear
            if target is not None:
                return target
            tries += 1
            if tries > state.retries:
                assert state.on_fail is not None
                return state.on_fail
            lead = {"silent": state.if_silent, "unclear": state.if_unclear}.get(why)

    def complete(self, reply: Reply, expect: Expect, keys: list[Answer]) -> Reply:
        """A barge-in reply made whole: speech that only *started* during the prompt (empty
        text) is listened to the end; the first key of a longer key answer waits for the rest."""
        if reply.kind == ReplyKind.SPEECH and not reply.text.strip():
            if not expect.speech:
                return Reply.silence()
            return self.line.listen(expect)
        if reply.kind == ReplyKind.DTMF and not reply.digits.endswith("#"):
            typed = reply.digits
            longer = [a for a in keys if a.dtmf and a.dtmf != typed and a.dtmf.startswith(typed)]
            if longer and not any(a.dtmf == typed for a in keys):
                rest = Expect(
                    dtmf=expect.dtmf,
                    max_digits=max(len(a.dtmf or "") for a in longer) - len(typed),
                    speech=False,
                    no_speech_timeout_s=expect.no_speech_timeout_s,
                )
                more = self.line.listen(rest)
                if more.kind in (ReplyKind.HANGUP, ReplyKind.MACHINE):
                    return more
                if more.kind == ReplyKind.DTMF:
                    return Reply(ReplyKind.DTMF, digits=typed + more.digits)
        return reply

    def grammar(self, spoken: list[Answer], keys: list[Answer]) -> list[str] | None:

        intents = [Intent(i) for a in spoken for i in a.intent]
        said = [a.dtmf for a in keys if a.dtmf is not None and _key_can_be_said(a)]
        return grammar_for(intents, any(a.time for a in spoken), keys=said)

    def clarify_text(self, state: AskState) -> str | None:
        """The clarifying question of this question (see the module docstring); None if off."""
        if isinstance(state.clarify, str):
            return state.clarify
        return default_clarify_text(state) if state.clarify else None

    def match(self, reply: Reply, answers: list[Answer], speech: bool) -> tuple[str | None, str]:
        """(next state, "") or (None, why): why is silent, unclear or repeat; or
        (tentative next state or None, "unsure") for words the NLU did not understand or
        understood only tentatively."""
        if reply.kind == ReplyKind.DTMF:
            self.result.dtmf += reply.digits
            keys = reply.digits.rstrip("#")
            for a in answers:
                if a.dtmf is not None and a.dtmf == keys:
                    return a.go, ""
            return None, "unclear"
        if reply.kind != ReplyKind.SPEECH or not reply.text.strip():
            return None, "silent"
        self.transcripts.append(reply.text.strip())
        if not speech:
            return None, "unclear"

        # «нажмите 1» answered «один»: the key said aloud is that key's answer.
        key = spoken_key(reply.text)
        for a in answers:
            if key is not None and a.dtmf == key and _key_can_be_said(a):
                return a.go, ""
        now = self.local_now()
        u = understand(reply.text, now, day_parts=self.day_parts)
        if u.time is not None:
            for a in answers:
                if a.time:
                    at = u.time if u.time.tzinfo else u.time.replace(tzinfo=self.tz)
                    self.ctx["answer_time"] = at.astimezone(self.tz)
                    return a.go, ""
        intent = str(getattr(u.intent, "value", u.intent))
        for a in answers:
            if intent in a.intent:
                return a.go, "unsure" if u.unsure else ""
        if intent == "repeat":
            return None, "repeat"
        return None, "unsure" if u.unsure else "unclear"


def _key_can_be_said(answer: Answer) -> bool:
    """A one-digit key answer may be said aloud («один»), except an opt-out's: blocking a
    number needs the words, not one stray «девять» from a noisy line."""
    return answer.dtmf is not None and len(answer.dtmf) == 1 and "optout" not in answer.intent


def run_dialog(
    scenario: Scenario,
    line: Line,
    variables: Variables,
    *,
    now: Callable[[], datetime],
    tz: ZoneInfo | str,
    speech_available: bool,
    operator: str | None = None,
    day_parts: Any = None,
    recording_level_dbfs: float | None = None,
) -> DialogResult:
    """Run `scenario` on `line` with the notification's `variables` (see the module docstring
    for the rules). Raises InputError, before saying anything, if the variables do not fit
    the scenario's texts (see loader.check_variables). `now` returns the current time (aware;
    naive means UTC); `tz` is the customer's zone; `operator` is the number a
    `transfer: operator` state hands over to; `day_parts` (cuckoo.speech.nlu.DayParts) says
    what hours «утром», «после обеда», «вечером» mean ([speech.day_parts] in cuckoo.toml)."""
    global _warned_no_asr
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    problems = check_variables(scenario, variables, include_sms=False)
    if problems:
        raise InputError(f"scenario {scenario.name}: " + "; ".join(problems))
    if not speech_available and not _warned_no_asr:
        log.warning(
            "no Russian speech recognition model: questions are answered by keys only "
            "(`cuckoo models download` installs one)"
        )
        _warned_no_asr = True
    return _Run(
        scenario,
        line,
        variables,
        now,
        zone,
        speech_available,
        operator,
        day_parts,
        recording_level_dbfs,
    ).run()
