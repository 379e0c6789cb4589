"""`TextLine`: a `Line` over text streams, for `cuckoo scenario simulate` and dialog tests.

The robot's lines are printed with a prefix; each `listen` reads one input line:
    digits, * and # ("1", "12#")  → a DTMF reply
    an empty line                → silence (the customer said nothing)
    words                        → a speech reply, lower case without punctuation, as Vosk
                                   would give it (the runner passes it to the NLU)
    !machine or !автоответчик    → an answering machine picked up (what SipLine's detector
                                   reports), to try a scenario's `voicemail:` setting
    end of input                 → the customer hung up
When the question does not listen for speech (no ASR model, or `speech: false`), words are
not heard: the reply is silence, as on a real call.

Text has no time, so nothing interrupts `say` here (no barge-in). When the input is not a
terminal (a pipe, a test) the customer's lines are echoed so the output reads as a dialog.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import TextIO

from cuckoo.line import Expect, Reply, ReplyKind
from cuckoo.line.audio import Audio

_DTMF = re.compile(r"[0-9*#]+")
MACHINE_INPUTS = ("!machine", "!автоответчик")
_NOT_WORD = re.compile(r"[^\w\s-]+")
VOICE = "голос: "  # what the voice reads, under a robot line that reads differently


def speech_text(typed: str) -> str:
    """Typed words as a recognizer would return them: lower case, no punctuation."""
    return " ".join(_NOT_WORD.sub(" ", typed.lower()).split())


class TextLine:
    def __init__(
        self,
        input: TextIO | None = None,
        output: TextIO | None = None,
        *,
        robot: str = "робот: ",
        customer: str = "клиент: ",
        echo: bool | None = None,
        spoken: Callable[[str], str] | None = None,
    ) -> None:
        self.input = input if input is not None else sys.stdin
        self.output = output if output is not None else sys.stdout
        self.robot = robot
        self.customer = customer
        self.interactive = self.input.isatty()
        self.echo = (not self.interactive) if echo is None else echo
        self.closed = False  # the customer hung up (end of input) or we did
        # text → what the voice reads (lexicon + normalization); shown where it differs
        self.spoken = spoken

    def _print(self, text: str) -> None:
        print(text, file=self.output, flush=True)

    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        if self.closed:
            return Reply.hangup()
        self._print(f"{self.robot}{text}")
        if self.spoken is not None:
            heard = self.spoken(text)
            if heard != text:
                self._print(f"{VOICE}{heard}")
        return None

    def play(self, audio: Audio, *, barge_in: bool = True) -> Reply | None:
        if self.closed:
            return Reply.hangup()
        self._print(f"{self.robot}[звук, {audio.duration_s:.1f} с]")
        return None

    def listen(self, expect: Expect) -> Reply:
        if self.closed:
            return Reply.hangup()
        if self.interactive:
            print(self.customer, end="", file=self.output, flush=True)  # a prompt to type at
        raw = self.input.readline()
        if raw == "":
            self.closed = True
            if self.echo:
                self._print(f"{self.customer}(положил трубку)")
            return Reply.hangup()
        typed = raw.strip()
        if self.echo:
            self._print(f"{self.customer}{typed or '(молчание)'}")
        if not typed:
            return Reply.silence()
        if typed.lower() in MACHINE_INPUTS:
            return Reply.machine(f"typed {typed}")
        if _DTMF.fullmatch(typed):
            digits = "".join(c for c in typed if c in expect.dtmf)
            return Reply(ReplyKind.DTMF, digits=digits) if digits else Reply.silence()
        if not expect.speech:
            self._print("      (речь сейчас не распознаётся: ответьте кнопкой)")
            return Reply.silence()
        text = speech_text(typed)
        if not text:
            return Reply.silence()
        return Reply(ReplyKind.SPEECH, text=text, confidence=1.0)

    def hangup(self) -> None:
        if not self.closed:
            self.closed = True
            self._print(f"{self.robot}(кладёт трубку)")
