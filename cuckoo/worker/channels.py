"""The channels a worker delivers with, built from the config in one place.

- CALL: `cuckoo.telephony.pool.CallChannel` over call worker processes (each with its own pjsua2
  Endpoint). Each worker is sent, once, the `ScenarioConversation` (the notification's scenario,
  run by the dialog runner) and the `ConfiguredSpeech` that builds its voice (Silero if its model
  is installed, else Festival, else espeak-ng) and its recognizer (a Russian Vosk model, else
  keys only). An `sms:` step of the dialog comes back as the result's `sms_text`; the store keeps
  it as an sms_requests row and the scheduler sends it.
- SMS: `cuckoo.sms.SmsChannel` over the `[sms.gateways]`; the text is the scenario's rendered
  `sms:` template.
- dry-run (`cuckoo run --channel dry-run`): logs what would be said or sent, calls nobody.

A channel that is not configured is left out, with a log line: the call channel without
`[telephony.trunk] domain` (stored phones are numbers, dialed through the trunk), the SMS channel
without `[sms.gateways]`. The scheduler claims only notifications of the channels it has; the
others stay pending until their channel is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cuckoo.clock import Clock
from cuckoo.config import Config
from cuckoo.dialog.catalog import ScenarioCatalog
from cuckoo.dialog.converse import ScenarioConversation
from cuckoo.domain import Channel, ChannelKind, Notification
from cuckoo.errors import ConfigError, CuckooError
from cuckoo.line.speech import RecognizerFactory, Synthesizer
from cuckoo.sms import SmsChannel, build_gateways
from cuckoo.speech.asr import recognizer_from_config
from cuckoo.speech.tts import build_synthesizer, espeak_synthesizer
from cuckoo.store import Store
from cuckoo.worker.dry_run import DryRunChannel, default_render

if TYPE_CHECKING:
    from cuckoo.telephony.pool import CallChannel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfiguredSpeech:
    """The voice and recognizer of `config`, built inside each call worker process."""

    config: Config

    def __call__(self) -> tuple[Synthesizer | None, RecognizerFactory | None]:
        synthesizer: Synthesizer
        try:
            synthesizer = build_synthesizer(self.config)
        except CuckooError as e:
            log.warning("the configured voice is unavailable (%s): using espeak-ng", e)
            synthesizer = espeak_synthesizer()
        try:
            recognizer = recognizer_from_config(self.config)
        except CuckooError as e:  # no ASR still leaves DTMF: calls go on
            log.warning("speech recognition unavailable (%s): listening to keys only", e)
            recognizer = None
        return synthesizer, recognizer


def scenario_conversation(config: Config) -> ScenarioConversation:
    return ScenarioConversation(
        scenarios_dir=config.path(config.scenarios_dir).resolve(),
        operator=config.telephony.operator,
        day_parts=dict(config.speech.day_parts),
    )


def call_channel(config: Config, clock: Clock | None = None) -> CallChannel:
    """The call channel of `config` (its workers start with `.start()` or the first call)."""
    try:
        # pjsua2 is the optional [sip] extra: an SMS-only or dry-run install runs without it
        from cuckoo.telephony.pool import CallChannel, CallPool, WorkerSpec
    except ImportError as e:
        raise ConfigError(f"calls need SIP: {e} (or the [sip] extra of cuckoo)") from e
    tel = config.telephony
    spec = WorkerSpec(
        settings=tel, converse=scenario_conversation(config), speech=ConfiguredSpeech(config)
    )
    record_dir = config.path(tel.record_dir) if tel.record_dir else None
    return CallChannel(tel, CallPool(tel, spec), clock=clock, record_dir=record_dir)


class ScenarioTexts:
    """The SMS channel's text: the scenario's `sms:` template with the notification's
    variables."""

    def __init__(self, scenarios_dir: Path) -> None:
        self.catalog = ScenarioCatalog(scenarios_dir)

    def __call__(self, n: Notification) -> str:
        return self.catalog.sms_text(n.scenario, dict(n.variables))


def sms_channel(config: Config, store: Store, clock: Clock | None = None) -> SmsChannel:
    gateways, webhook = build_gateways(config.sms)

    def on_receipt(message_id: str, status: str) -> bool:
        # False: no row yet; the channel holds the receipt until row_stored() (or logs it)
        return store.update_receipt(message_id, status)

    return SmsChannel(
        config.sms,
        gateways,
        text_for=ScenarioTexts(config.path(config.scenarios_dir)),
        is_blocked=store.is_blocked,
        on_receipt=on_receipt,
        webhook=webhook,
        **({"clock": clock} if clock is not None else {}),
    )


def dry_run_channels(config: Config, clock: Clock | None = None) -> dict[ChannelKind, Channel]:
    """Channels that log what the call would say up to the first answer, or the SMS text."""
    catalog = ScenarioCatalog(config.path(config.scenarios_dir))

    def render(n: Notification) -> list[str]:
        try:
            if n.channel == ChannelKind.SMS:
                return [catalog.sms_text(n.scenario, dict(n.variables))]
            return catalog.preview_call(n.scenario, dict(n.variables), n.timezone)
        except CuckooError as e:  # a dry run reports what a real attempt would trip over
            return [f"cannot render scenario {n.scenario!r}: {e}", *default_render(n)]

    return {k: DryRunChannel(k, render, clock) for k in (ChannelKind.CALL, ChannelKind.SMS)}


def build_channels(
    config: Config, store: Store, *, clock: Clock | None = None, calls: bool = True
) -> dict[ChannelKind, Channel]:
    """The real channels `config` configures (see the module docstring for what is left out)."""
    channels: dict[ChannelKind, Channel] = {}
    if not calls:
        pass
    elif not config.telephony.trunk_pool:
        log.warning(
            "no trunk configured ([telephony.trunk] domain or [telephony.trunks.NAME]): the "
            "call channel is off (numbers cannot be dialed); notifications to call stay "
            "pending until a trunk is configured"
        )
    else:
        channels[ChannelKind.CALL] = call_channel(config, clock)
    if config.sms.gateways:
        channels[ChannelKind.SMS] = sms_channel(config, store, clock)
    else:
        log.info("no [sms.gateways] configured: the SMS channel is off")
    missing = [k.value for k in (ChannelKind.CALL, ChannelKind.SMS) if k not in channels]
    if missing:
        log.warning(
            "channels off: %s; notifications that need them stay pending", ", ".join(missing)
        )
    return channels


def start_channels(channels: Mapping[ChannelKind, Channel]) -> None:
    """Start what holds processes (call workers: up, and the voice warm, before the first claim)."""
    for ch in channels.values():
        start = getattr(ch, "start", None)
        if callable(start):
            start()


def close_channels(channels: Mapping[ChannelKind, Channel]) -> None:
    """Stop the call workers, unbind the SMS gateways, close the receipt listener."""
    for ch in channels.values():
        close = getattr(ch, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # closing must not hide the run's own result
                log.exception("closing the %s channel failed", ch.kind)
