"""The neutral seams of a live call, imported by telephony, speech and dialog alike (and
importing none of them):

- this module: `Line`, one live conversation as the dialog sees it — say / play / listen →
  `Reply` / hangup — and `Expect`, what a question waits for. `SipLine` (cuckoo.telephony)
  implements it over pjsua2; `TextLine` (cuckoo.dialog) over a terminal or a pipe, for
  `cuckoo scenario simulate` and dialog tests.
- audio.py        `Audio`: 16-bit mono PCM at a rate, WAV in and out, resampling
- speech.py       the `Synthesizer` / `StreamingRecognizer` protocols and `SpeechSetup`
- endpointing.py  when an utterance starts and ends (energy VAD + recognizer events)
- leg.py          the call leg: `CallRequest` → a call worker → `CallReport`; `Conversation`
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from cuckoo.line.audio import Audio


class ReplyKind(enum.StrEnum):
    DTMF = "dtmf"
    SPEECH = "speech"
    SILENCE = "silence"  # nothing before the no-speech timeout
    HANGUP = "hangup"  # the customer hung up (or the line died)
    # An answering machine / voicemail answered (cuckoo.telephony.amd; `text` says why). Told
    # once per call, by whichever say/play/listen is running when it is detected.
    MACHINE = "machine"


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    digits: str = ""  # DTMF keys, in order
    text: str = ""  # recognized speech, Vosk style: lower case, no punctuation
    confidence: float = 0.0

    @classmethod
    def silence(cls) -> Reply:
        return cls(ReplyKind.SILENCE)

    @classmethod
    def hangup(cls) -> Reply:
        return cls(ReplyKind.HANGUP)

    @classmethod
    def machine(cls, reason: str) -> Reply:
        return cls(ReplyKind.MACHINE, text=reason)


@dataclass(frozen=True)
class Expect:
    """What a question waits for."""

    dtmf: str = "0123456789*#"  # keys that count as an answer
    max_digits: int = 1
    grammar: list[str] | None = None  # phrases for the recognizer; None = free speech
    speech: bool = True  # listen for speech at all (False: DTMF only)
    no_speech_timeout_s: float = 6.0
    end_silence_s: float = 0.8  # silence that ends an utterance
    max_utterance_s: float = 10.0
    extra: dict[str, str] = field(default_factory=dict)


class Line(Protocol):
    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        """Speak `text`. Returns the reply that interrupted it (barge-in), else None.
        A HANGUP reply means the customer is gone."""
        ...

    def play(self, audio: Audio, *, barge_in: bool = True) -> Reply | None: ...

    def listen(self, expect: Expect) -> Reply: ...

    def hangup(self) -> None: ...


# Optional Line capabilities, looked up with getattr by the dialog runner:
#   transfer(target: str) -> bool       blind transfer to an operator (SipLine)
#   wait_for_beep() -> bool             after a MACHINE reply: wait until the machine records
#                                       (its beep, or silence); False if it did not come
