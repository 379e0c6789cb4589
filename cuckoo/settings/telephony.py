"""[telephony] section of cuckoo.toml: the SIP trunk, dialing limits and the call workers."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
    """The SIP trunk / PBX. Empty `domain`: no trunk, numbers must be SIP URIs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str = ""  # host[:port] calls go to: sip:<number>@<domain>
    registrar: str = ""  # e.g. "sip:pbx.example.com"; empty: no REGISTER (IP authentication)
    username: str = ""  # digest credentials (used for REGISTER and INVITE challenges)
    password: str = ""
    realm: str = "*"
    proxy: str = ""  # outbound proxy, e.g. "sip:10.0.0.1:5060;lr"
    caller_id: str = ""  # From URI, e.g. "sip:74951234567@pbx.example.com"
    register_timeout_s: int = 300


class TelephonySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trunk: TrunkSettings = TrunkSettings()
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
    rtp_timeout_s: float = Field(default=10.0, ge=0)  # no RTP on an answered call: hang up (0: off)
    calls_per_second: float = Field(default=5.0, gt=0)
    workers: int = Field(default=2, ge=1, le=64)  # call worker processes
    calls_per_worker: int = Field(default=4, ge=1, le=4)  # pjsua2 wheel limit: 4 calls per process
    inband_dtmf: bool = True  # detect DTMF tones in the audio too
    operator: str = ""  # number or SIP URI a `transfer: operator` state hands the call to
    record_dir: str = ""  # record every call (stereo WAV: robot left, customer right)
    conversation: str = ""  # "module:function" run per answered call; empty: say + wait key
    synthesizer: str = "cuckoo.speech.tts:build_synthesizer"
    # "module:function(config) -> RecognizerFactory | None"; empty or None: DTMF only
    recognizer: str = "cuckoo.speech.asr:recognizer_from_config"

    @property
    def max_concurrent_calls(self) -> int:
        return self.workers * self.calls_per_worker
