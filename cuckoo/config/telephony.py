"""[telephony] section of cuckoo.toml: the SIP trunk, dialing limits and the call workers."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cuckoo.config.secrets import env_checked, file_checked, resolve_secret


class DialRule(BaseModel):
    """Rewrite of an E.164 number into what the trunk wants, e.g. +7XXXXXXXXXX → 8XXXXXXXXXX.
    `match` is a Python regex applied to the whole E.164 string; `replace` may use \\1 groups."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str
    replace: str

    @field_validator("match")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"not a valid regex: {e}") from e
        return v


class TrunkSettings(BaseModel):
    """A SIP trunk / PBX. Empty `domain`: no trunk, numbers must be SIP URIs.

    `[telephony.trunk]` is the one-trunk form; `[telephony.trunks.NAME]` several, tried by
    `priority` (lower first) with a channel limit each; a failing one rests for a cool-down
    ([telephony.failover]) and calls go to the next."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str = ""  # host[:port] calls go to: sip:<number>@<domain>
    registrar: str = ""  # e.g. "sip:pbx.example.com"; empty: no REGISTER (IP authentication)
    username: str = ""  # digest credentials (used for REGISTER and INVITE challenges)
    password: str = Field(default="", repr=False)
    password_env: str | None = None  # or: the environment variable holding the password
    password_file: str | None = None  # or: a file holding it (relative to cuckoo.toml)
    realm: str = "*"
    proxy: str = ""  # outbound proxy, e.g. "sip:10.0.0.1:5060;lr"
    caller_id: str = ""  # From URI, e.g. "sip:74951234567@pbx.example.com"
    register_timeout_s: int = 300
    priority: int = 0  # several trunks: the lowest number is tried first
    max_calls: int = Field(default=0, ge=0)  # calls at once through this trunk (0: no limit)
    tenants: list[str] = []  # the tenants it carries (empty: every tenant)
    # Numbers shown to customers, e.g. ["+74951234567", "+74951234568"]: each customer always
    # sees the same one of them (rotating numbers get screened as spam).
    caller_ids: list[str] = []
    dial_plan: list[DialRule] | None = None  # None: [telephony] dial_plan

    @field_validator("caller_ids")
    @classmethod
    def _caller_ids(cls, v: list[str]) -> list[str]:
        return [_caller_id(x) for x in v]

    @field_validator("password_env")
    @classmethod
    def _password_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("password_file")
    @classmethod
    def _password_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @model_validator(mode="after")
    def _password_secret(self, info: ValidationInfo) -> Self:
        resolve_secret(self, "password", info)
        return self


def _caller_id(value: str) -> str:
    v = value.strip()
    if v.startswith(("sip:", "sips:")) or re.fullmatch(r"\+?[0-9]{3,15}", v):
        return v
    raise ValueError(f"caller id {value!r} is neither a number (+74951234567) nor a SIP URI")


class FailoverSettings(BaseModel):
    """When a trunk is taken out of service for a while (several trunks only: a single trunk
    is never taken out, there is nothing to fail over to)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Failures in a row: no SIP response, 408, 5xx from the trunk, refused credentials, a
    # lost registration. Any other answer (even busy) proves the trunk works.
    failures: int = Field(default=3, ge=1)
    cooldown_s: float = Field(default=120.0, gt=0)


class AmdSettings(BaseModel):
    """Answering-machine detection from the far end's audio (cuckoo.telephony.amd). The
    defaults are conservative: a person taken for a machine is hung up on, a machine taken
    for a person only costs a contact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    total_analysis_s: float = Field(default=12.0, gt=0, le=30)  # listen this long after answer
    # No word by then: no greeting at all (a person listening to the robot). Speech heard
    # later is someone answering the robot, never a machine's greeting.
    initial_silence_s: float = Field(default=2.5, gt=0)
    greeting_s: float = Field(default=4.5, gt=0)  # speech without a pause this long: a machine
    # A greeting no longer than this, then after_greeting_silence_s of silence: a person.
    # Between the two: undecided.
    human_greeting_s: float = Field(default=3.0, gt=0)
    after_greeting_silence_s: float = Field(default=0.8, gt=0)
    min_word_s: float = Field(default=0.1, gt=0)  # shorter bursts are clicks, not words
    between_words_silence_s: float = Field(default=0.1, gt=0)  # a pause this long ends a word
    max_words: int = Field(default=10, ge=2)  # this many words without a pause: a machine
    silence_threshold: float = Field(default=256.0, gt=0)  # RMS (int16) below which is silence
    voice_snr_db: float = Field(default=6.0, ge=0)  # speech is this far above the noise floor
    noise_window_s: float = Field(default=1.5, gt=0)  # the floor is the quietest frame in it
    echo_margin_db: float = Field(default=6.0, ge=0)  # audio this close to our own echo is echo
    beep_min_hz: float = Field(default=500.0, gt=0)  # above 425 Hz, the Russian call-progress
    beep_max_hz: float = Field(default=2000.0, gt=0)  # tones (busy, ringback)
    beep_min_s: float = Field(default=0.3, gt=0)  # a steady single tone this long: a beep
    beep_min_share: float = Field(default=0.7, gt=0, le=1)  # of the audio's energy in the tone
    # voicemail: leave_message — start after the beep, or after this much silence without one,
    # or after beep_wait_s in any case
    message_after_silence_s: float = Field(default=2.0, gt=0)
    beep_wait_s: float = Field(default=15.0, gt=0)
    # Early media (a 183 with SDP, before the answer; cuckoo.telephony.early): a special
    # information tone or an operator's announcement («абонент недоступен») ends the call
    # attempt at once as unreachable (no_answer) or invalid_number instead of ringing out.
    early_media: bool = True
    # Speech in early media counts as an operator's announcement («абонент недоступен»): the
    # call is cancelled as unreachable. Off by default: music ringback (GOOD'OK, «Хорошее
    # настроение» — songs instead of the ringing tone, common on Russian numbers) has not been
    # measured against it, and a song taken for an announcement would never let the phone ring
    # out. SIT tones (above) are safe and stay on.
    early_announcements: bool = False
    early_speech_s: float = Field(default=1.2, gt=0)  # this much speech: an announcement
    early_min_syllables: int = Field(default=4, ge=1)  # voiced runs after a dip, at least
    early_min_swing_db: float = Field(default=4.0, ge=0)  # the level's spread over speech

    @model_validator(mode="after")
    def _band(self) -> AmdSettings:
        if self.human_greeting_s > self.greeting_s:
            raise ValueError("human_greeting_s must not exceed greeting_s")
        if self.beep_min_hz >= self.beep_max_hz:
            raise ValueError("beep_min_hz must be below beep_max_hz")
        if self.beep_max_hz >= 3600:
            raise ValueError("beep_max_hz must be below 3600 Hz (the telephone band)")
        return self


class TelephonySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trunk: TrunkSettings = TrunkSettings()  # the one-trunk form
    trunks: dict[str, TrunkSettings] = {}  # several trunks, by name
    failover: FailoverSettings = FailoverSettings()
    # tenant → the numbers its customers see (stable per customer), over any trunk's own
    caller_ids: dict[str, list[str]] = {}
    transport: Literal["udp", "tcp", "tls"] = "udp"
    tls_ca_file: str = ""  # PEM CA list (with transport = "tls")
    tls_cert_file: str = ""  # our PEM certificate, if the trunk wants one
    tls_key_file: str = ""
    bind_host: str = "0.0.0.0"
    sip_port: int = Field(default=0, ge=0, le=65535)  # worker i: sip_port + i; 0: any port
    rtp_port_start: int = Field(default=0, ge=0, le=65535)  # 0: let pjsua pick
    rtp_ports_per_worker: int = Field(default=100, ge=8)
    codecs: list[str] = ["PCMA/8000", "PCMU/8000", "G722/16000"]
    dial_plan: list[DialRule] = []
    ring_timeout_s: float = Field(default=30.0, gt=0)  # we CANCEL after this
    setup_timeout_s: float = Field(default=8.0, gt=0)  # no SIP response at all: network trouble
    max_call_s: float = Field(default=300.0, gt=0)
    # What a customer hears when our side fails after the answer, before we hang up ("" =
    # hang up at once). The same text would fail again: the notification ends FAILED.
    apology: str = "Извините, у нас техническая ошибка. Мы свяжемся с Вами позже. До свидания."
    rtp_timeout_s: float = Field(default=10.0, ge=0)  # no RTP on an answered call: hang up (0: off)
    calls_per_second: float = Field(default=5.0, gt=0)
    workers: int = Field(default=2, ge=1, le=64)  # call worker processes
    calls_per_worker: int = Field(default=4, ge=1, le=4)  # pjsua2 wheel limit: 4 calls per process
    inband_dtmf: bool = True  # detect DTMF tones in the audio too
    amd: AmdSettings = AmdSettings()  # answering-machine detection
    operator: str = ""  # number or SIP URI a `transfer: operator` state hands the call to
    # REFER sent → the final NOTIFY (the operator answered or not); after it the transfer
    # counts as failed and the customer hears the transfer state's `if_failed`
    transfer_timeout_s: float = Field(default=10.0, gt=0, le=120)
    record_dir: str = ""  # record every call (stereo WAV: robot left, customer right)

    @field_validator("caller_ids")
    @classmethod
    def _tenant_caller_ids(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        return {tenant: [_caller_id(x) for x in ids] for tenant, ids in v.items()}

    @model_validator(mode="after")
    def _one_trunk_form(self) -> TelephonySettings:
        if self.trunks and self.trunk.domain:
            raise ValueError(
                "both [telephony.trunk] and [telephony.trunks.NAME] are set: keep one form "
                "(move the single trunk under [telephony.trunks.NAME])"
            )
        for name, t in self.trunks.items():
            if not t.domain:
                raise ValueError(f"[telephony.trunks.{name}] needs a domain")
        return self

    @property
    def trunk_pool(self) -> dict[str, TrunkSettings]:
        """The trunks calls may go through, by name ("default": the one-trunk form)."""
        if self.trunks:
            return dict(self.trunks)
        return {"default": self.trunk} if self.trunk.domain else {}

    @property
    def max_concurrent_calls(self) -> int:
        return self.workers * self.calls_per_worker
