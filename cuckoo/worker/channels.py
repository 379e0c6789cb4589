"""The real channels the worker delivers with: calls (telephony worker processes running the
dialog) and SMS (the configured gateways). `cuckoo run` uses `build_channels(config)`.

- CALL: `cuckoo.telephony.pool.CallChannel` — worker processes, each with its own pjsua2 Endpoint,
  run `converse_call` (below) on every answered call: the scenario named by the notification,
  spoken by the configured synthesizer ([telephony] synthesizer: Silero if its model is
  installed, else Festival), answered by DTMF, and by voice when a Russian Vosk model is
  installed ([telephony] recognizer). An `sms:` step of the dialog comes back as the result's
  `sms_text`; the store keeps it as an sms_requests row and the scheduler's
  flush_sms_requests sends it through the SMS channel.
- SMS: `cuckoo.sms.SmsChannel` over the `[sms.gateways]`; the text is the scenario's rendered
  `sms:` template. Left out (with a log line) when no gateway is configured.

The call channel is left out (with a log line) when no trunk is configured: a stored phone is a
number, and numbers are dialed through `[telephony.trunk]`. A notification whose channel is left
out is never claimed by the scheduler (it only claims notifications of the channels it has): it
stays pending until the channel is configured.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cuckoo.clock import Clock
from cuckoo.domain import AttemptResult, Channel, ChannelKind, Notification, Outcome
from cuckoo.errors import InputError

if TYPE_CHECKING:
    from cuckoo.config import Config
    from cuckoo.store import Store
    from cuckoo.telephony.pool import CallPool

log = logging.getLogger("cuckoo.worker.channels")


# What a call worker runs on each answered call (an import path: workers are spawned processes).
CONVERSE_PATH = "cuckoo.worker.channels:converse_call"


def converse_call(line: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Runs in a call worker: the dialog's `converse` with what the parent added to the request.

    Variables that do not fit the scenario (InputError, raised before anything is said) end
    the call as INVALID_NUMBER — the outcome whose status is INVALID ("bad input") — with the
    reason in the detail: retrying cannot help, the ERP row must be fixed."""
    from cuckoo.dialog.converse import converse

    try:
        return converse(line, request)
    except InputError as e:
        return {"outcome": Outcome.INVALID_NUMBER.value, "detail": f"bad input: {e}", "said": []}


def default_config_path() -> str | None:
    """The file `cuckoo.config.load(None)` reads ($CUCKOO_CONFIG, else ./cuckoo.toml), so the
    call workers build their synthesizer/recognizer from the same file; None: defaults."""
    import os

    from cuckoo.config import DEFAULT_PATH, ENV_PATH

    path = os.environ.get(ENV_PATH) or (str(DEFAULT_PATH) if DEFAULT_PATH.exists() else None)
    return str(Path(path).resolve()) if path else None


class DialogCallChannel:
    """The call Channel: the telephony CallChannel's pool, with the dialog's request fields
    (scenarios_dir, the clock's `now`) added to every call. Whether speech is understood is
    decided in the worker by the line itself (it has a recognizer or not)."""

    kind = ChannelKind.CALL

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        config_path: str | None = None,
        pool: CallPool | None = None,
    ) -> None:
        from cuckoo.telephony.pool import CallChannel, WorkerSpec

        if config_path is None:
            config_path = default_config_path()
        self.config = config
        self.clock = clock
        self.scenarios_dir = str(config.path(config.scenarios_dir).resolve())
        # Synthesizer and recognizer come from [telephony] (the recognizer builder returns
        # none without an installed Russian Vosk model: the dialog then takes keys only).
        spec = WorkerSpec(
            settings=config.telephony.model_dump(),
            config_path=config_path,
            converse=CONVERSE_PATH,
        )
        self.calls = CallChannel(config.telephony, spec, pool=pool)
        self._lock = threading.Lock()

    def start(self) -> DialogCallChannel:
        with self._lock:
            self.calls.start()
        return self

    def close(self) -> None:
        self.calls.close()

    def request_for(self, n: Notification) -> dict[str, Any]:
        from cuckoo.telephony.pool import notification_request

        request = notification_request(n)
        request["scenarios_dir"] = self.scenarios_dir
        if self.config.telephony.operator:
            request["operator"] = self.config.telephony.operator
        if self.clock is not None:
            request["now"] = self.clock().astimezone(UTC).isoformat()
        return request

    def deliver(self, notification: Notification) -> AttemptResult:
        from cuckoo.telephony.dialplan import target_uri
        from cuckoo.telephony.pool import attempt_result

        self.start()
        started = self.clock() if self.clock is not None else datetime.now(UTC)
        try:
            uri = target_uri(notification.phone, self.config.telephony)
        except InputError as e:
            return AttemptResult(Outcome.INVALID_NUMBER, started, started, detail=str(e))
        record = None
        if self.config.telephony.record_dir:
            stamp = started.strftime("%Y%m%dT%H%M%S")
            record = str(
                self.config.path(self.config.telephony.record_dir)
                / f"{notification.id}-{notification.attempt_no}-{stamp}.wav"
            )
        fut = self.calls.pool.submit(uri, self.request_for(notification), record)
        return on_clock(attempt_result(fut.result()), self.clock)


def on_clock(result: AttemptResult, clock: Clock | None) -> AttemptResult:
    """The call worker stamps its times on the wall clock; under a fast clock (the demo, `run
    --clock-speed`) the call is placed where it started on that clock, so it agrees with the
    store's other times (next attempt, the ERP's last_attempt_at). Its length stays real: a
    20-second call reads as 20 seconds, not 20 minutes."""
    at = getattr(clock, "at", None)
    if at is None:
        return result
    shift = at(result.started_at) - result.started_at
    return dataclasses.replace(
        result,
        started_at=result.started_at + shift,
        ended_at=result.ended_at + shift,
        answered_at=result.answered_at + shift if result.answered_at else None,
    )


class ScenarioTexts:
    """`text_for` of the SMS channel: the scenario's `sms:` template rendered with the
    notification's variables. Scenarios are loaded once and kept."""

    def __init__(self, scenarios_dir: Path) -> None:
        from cuckoo.dialog.catalog import ScenarioCatalog

        self.catalog = ScenarioCatalog(scenarios_dir)

    def __call__(self, n: Notification) -> str:
        return self.catalog.sms_text(n.scenario, dict(n.variables))


def build_sms_channel(config: Config, store: Store, clock: Clock | None = None) -> Channel | None:
    """The SMS channel, or None (logged) when no gateway is configured."""
    if not config.sms.gateways:
        log.info("no [sms.gateways] configured: the SMS channel is off")
        return None
    from cuckoo.sms import SmsChannel, build_gateways

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


def build_channels(
    config: Config,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    config_path: str | None = None,
    calls: bool = True,
) -> dict[ChannelKind, Channel]:
    """The real channels for `config`. `store` is used for the SMS do-not-contact check and
    delivery receipts (one is opened from the config when not given); `clock` is the scheduler's
    clock, passed to the dialog as its `now` and to the SMS channel (the demo's fast clock);
    `config_path` is the cuckoo.toml the call workers load for their synthesizer/recognizer
    (default: the file `cuckoo.config.load()` reads without -c)."""
    channels: dict[ChannelKind, Channel] = {}
    if calls and not config.telephony.trunk.domain:
        # Stored phones are numbers, and a number is dialed through the trunk: without one
        # every call would fail as if the customer's number were wrong.
        log.warning(
            "no [telephony.trunk] domain configured: the call channel is off (numbers cannot "
            "be dialed); notifications to call stay pending until a trunk is configured"
        )
    elif calls:
        channels[ChannelKind.CALL] = DialogCallChannel(config, clock=clock, config_path=config_path)
    if store is None and config.sms.gateways:
        from cuckoo.store import Store

        store = Store.from_config(config)
    if store is not None:
        sms = build_sms_channel(config, store, clock)
        if sms is not None:
            channels[ChannelKind.SMS] = sms
    else:
        log.info("no [sms.gateways] configured: the SMS channel is off")
    missing = [k.value for k in (ChannelKind.CALL, ChannelKind.SMS) if k not in channels]
    if missing:
        log.warning(
            "channels off: %s; notifications that need them stay pending", ", ".join(missing)
        )
    return channels


def close_channels(channels: dict[ChannelKind, Channel]) -> None:
    """Stop the call workers, unbind the SMS gateways, close the receipt listener."""
    for ch in channels.values():
        close = getattr(ch, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # closing must not hide the run's own result
                log.exception("closing the %s channel failed", ch.kind)
