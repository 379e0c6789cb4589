"""The demo's pure parts, without SIP: the expected-outcome checks, the generated config, the
per-call phone scripts, the SMS text and the channel wiring."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cuckoo.config import parse
from cuckoo.demo import CustomerState, check_customer
from cuckoo.demo.cast import CAST, DOCS, Customer, Expected, documents, phones_script
from cuckoo.demo.phone import SequencedScript
from cuckoo.demo.rig import Rig, RigOptions, scenarios_dir, toml_text
from cuckoo.domain import ChannelKind, Notification, Outcome, Status
from cuckoo.store import Store
from cuckoo.worker.channels import ScenarioTexts, build_channels

CONFIRM = Customer(
    "Иванова",
    "Мария",
    None,
    "+79121000001",
    None,
    "Екатеринбург",
    "documents_sent",
    "A-1",
    "presses 1",
    [],
    Expected(Status.CONFIRMED, Outcome.CONFIRMED, 1, 1, dtmf="1", heard_robot=True, calls=1),
    DOCS,
)
PHONE = "+79121000001"


def good_state() -> CustomerState:
    return CustomerState(
        CONFIRM,
        "5",
        status="confirmed",
        attempts=1,
        contacts=1,
        last_outcome="confirmed",
        dtmf="1",
        outcomes=["confirmed"],
    )


def good_erp() -> list[dict[str, Any]]:
    return [
        {
            "document_id": 5,
            "notify_status": "подтверждено",
            "notify_call": 0,
            "notify_sms": 0,
            "status": "подтверждено",
            "status_code": "confirmed",
            "outcome": "подтвердил",
            "outcome_code": "confirmed",
            "callback_at": None,
        }
    ]


def good_events() -> list[dict[str, Any]]:
    return [
        {"event": "incoming", "user": PHONE, "n": 1},
        {"event": "ended", "user": PHONE, "answered": True, "first_audio_s": 0.4},
    ]


def test_a_matching_customer_has_no_differences() -> None:
    assert check_customer(good_state(), good_erp(), good_events(), PHONE) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda s, e, v: setattr(s, "status", "exhausted"), "status: expected 'confirmed'"),
        (lambda s, e, v: setattr(s, "attempts", 2), "attempts: expected 1, got 2"),
        (lambda s, e, v: setattr(s, "contacts", 0), "contacts: expected 1, got 0"),
        (lambda s, e, v: setattr(s, "dtmf", "2"), "keys pressed: expected '1', got '2'"),
        (lambda s, e, v: setattr(s, "last_outcome", "busy"), "last outcome"),
        (lambda s, e, v: e[0].update(notify_status="в работе"), "ERP notify_status"),
        (lambda s, e, v: e[0].update(notify_status="confirmed"), "ERP notify_status"),
        (lambda s, e, v: e[0].update(outcome_code="busy"), "ERP notify_results: no row"),
        (lambda s, e, v: e[0].update(notify_call=1), "flags were not cleared"),
        (lambda s, e, v: e.clear(), "ERP: the document is gone"),
        (
            lambda s, e, v: v.append({"event": "incoming", "user": PHONE}),
            "calls the phone received: expected 1, got 2",
        ),
        (lambda s, e, v: v[1].update(first_audio_s=None), "never heard the robot's voice"),
    ],
)
def test_every_difference_is_named(change: Any, complaint: str) -> None:
    st, erp, events = good_state(), good_erp(), good_events()
    change(st, erp, events)
    problems = check_customer(st, erp, events, PHONE)
    assert any(complaint in p for p in problems), problems


def test_callback_expectation_needs_a_time_in_store_and_erp() -> None:
    c = next(c for c in CAST if c.expect.callback)
    st = CustomerState(
        c,
        "4",
        status="pending",
        attempts=1,
        contacts=1,
        last_outcome="callback_requested",
        dtmf="21",
    )
    erp: list[dict[str, Any]] = [
        {
            "document_id": 4,
            "notify_status": "в работе",
            "notify_call": 1,
            "notify_sms": 0,
            "status": "в работе",
            "status_code": "pending",
            "outcome": "просит перезвонить",
            "outcome_code": "callback_requested",
            "callback_at": None,
        }
    ]
    events: list[dict[str, Any]] = [
        {"event": "incoming", "user": "+79121000006"},
        {"event": "ended", "user": "+79121000006", "answered": True, "first_audio_s": 1.0},
    ]
    problems = check_customer(st, erp, events, "+79121000006")
    assert "no callback time was agreed" in problems
    assert "ERP notify_results: callback_at is empty" in problems
    st.callback_at = datetime(2026, 11, 23, 5, tzinfo=UTC)
    erp[0]["callback_at"] = "2026-11-23 08:00:00"
    assert check_customer(st, erp, events, "+79121000006") == []
    # A pending end state counts as settled only with the expected outcome.
    assert st.settled
    st.last_outcome = "busy"
    assert not st.settled


def test_the_cast_covers_every_behaviour_the_demo_promises() -> None:
    got = {(c.expect.status, c.expect.outcome) for c in CAST}
    assert (Status.CONFIRMED, Outcome.CONFIRMED) in got  # presses 1 (and busy, then 1)
    assert (Status.EXHAUSTED, Outcome.NO_ANSWER) in got  # never answers until the barrier
    assert (Status.PENDING, Outcome.CALLBACK_REQUESTED) in got  # callback by keys
    assert (Status.INVALID, Outcome.INVALID_NUMBER) in got  # 404 from the phone network
    assert (Status.INVALID, None) in got  # rejected when read from the ERP
    busy_then = [c for c in CAST if c.calls and c.calls[0].get("action") == "busy"]
    assert busy_then and busy_then[0].expect.attempts == len(busy_then[0].calls)


def test_phone_scripts_follow_each_customers_calls() -> None:
    script = SequencedScript.from_json(phones_script(CAST))
    petrov = "+79161000002"
    assert script.for_user(petrov).action == "busy"
    assert script.for_user(petrov).action == "answer"
    assert script.for_user(petrov).action == "answer"  # the last behaviour repeats
    assert script.for_user("+79231000003").action == "never"
    assert script.for_user("+70000000000").code == 404  # nobody: a number that does not exist
    assert len(script.sequences) == len(CAST) - 1  # the unparseable phone is never dialled
    with pytest.raises(ValueError, match="unknown keys"):
        SequencedScript.from_json({"users": {}})


def test_documents_carry_the_scenarios_variables() -> None:
    import json

    rows = documents(CAST)
    assert [r["number"] for r in rows] == [c.number for c in CAST]
    assert all(r["notify_call"] for r in rows)
    assert json.loads(rows[0]["notify_params"])["period"] == "октябрь"


def test_the_generated_config_is_a_valid_cuckoo_toml(tmp_path: Path) -> None:
    rig = Rig(tmp_path, {}, RigOptions(sms_gateway={"type": "smpp", "port": 2775}))
    rig.phone_port = 5099
    text = toml_text(rig.config_data())
    assert tomllib.loads(text)["telephony"]["trunk"]["domain"] == "127.0.0.1:5099"
    cfg = parse(text, base_dir=tmp_path)
    assert cfg.policy.retry.retry_after.busy == 1
    assert cfg.policy.window.is_open(datetime(2026, 1, 1, 3, tzinfo=UTC), "Europe/Moscow")
    assert cfg.adapters["shop"].type == "sql"
    assert cfg.sms.gateways["demo"].type == "smpp"
    assert cfg.scheduler.lease_s == 60.0  # real seconds: the scheduler scales it to the clock


@pytest.mark.parametrize(
    ("value", "toml"),
    [(True, "true"), (3, "3"), (0.5, "0.5"), ('a"b\nc', '"a\\"b\\nc"'), (["x", 1], '["x", 1]')],
)
def test_toml_values(value: Any, toml: str) -> None:
    assert toml_text({"k": value}) == f'"k" = {toml}\n'
    assert tomllib.loads(toml_text({"k": value}))["k"] == value


def notification(scenario: str, variables: dict[str, Any]) -> Notification:
    return Notification(
        1,
        "shop",
        "1",
        "default",
        "+79121000001",
        "+79121000001",
        ChannelKind.SMS,
        scenario,
        variables,
        "Europe/Moscow",
        1,
        0,
    )


def test_sms_text_is_the_scenarios_sms_template() -> None:
    texts = ScenarioTexts(scenarios_dir())
    text = texts(
        notification(
            "documents_sent",
            {**DOCS, "customer": {"first_name": "Ольга", "patronymic": "Ивановна"}},
        )
    )
    assert text.startswith("Ольга Ивановна,") and "октябрь" in text
    with pytest.raises(Exception, match="customer"):
        texts(notification("documents_sent", {}))


def test_build_channels_leaves_sms_out_without_gateways(tmp_path: Path) -> None:
    from cuckoo.dialog.converse import ScenarioConversation
    from cuckoo.telephony.pool import CallChannel

    cfg = parse('[telephony.trunk]\ndomain = "127.0.0.1:5090"\n', base_dir=tmp_path)
    channels = build_channels(cfg, Store("sqlite://"))
    assert set(channels) == {ChannelKind.CALL}
    call = channels[ChannelKind.CALL]
    assert isinstance(call, CallChannel)
    converse = call.pool.spec.converse
    assert isinstance(converse, ScenarioConversation)
    assert converse.scenarios_dir == (tmp_path / "scenarios").resolve()
    assert call.clock is None  # the wall clock, unless a fast clock is given
    # Not started: building the channels starts no worker process.
    assert not call._started


def test_build_channels_leaves_calls_out_without_a_trunk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Without a trunk no number can be dialed: the channel is off (notifications wait), rather
    # than every customer's number failing as "invalid".
    channels = build_channels(parse("", base_dir=tmp_path), Store("sqlite://"))
    assert channels == {}
    assert "no trunk configured ([telephony.trunk] domain or [telephony.trunks" in caplog.text
    assert "channels off: call, sms" in caplog.text


def test_input_errors_do_not_reach_the_phone_as_a_delivered_call() -> None:
    import io

    from cuckoo.dialog.converse import ScenarioConversation
    from cuckoo.dialog.text_line import TextLine
    from cuckoo.line.leg import CallRequest

    line = TextLine(io.StringIO(""), io.StringIO())
    converse = ScenarioConversation(scenarios_dir())
    r = converse(line, CallRequest("sip:x", notification("documents_sent", {})))
    assert r.outcome == Outcome.INVALID_NUMBER
    assert "bad input" in r.detail and "customer" in r.detail


def test_demo_never_empties_a_folder_it_did_not_make(tmp_path: Path) -> None:
    import io

    from cuckoo.demo import is_demo_folder, run_demo

    (tmp_path / "precious.txt").write_text("keep me")
    out = io.StringIO()
    assert run_demo(workdir=tmp_path, out=out, live=False) == 2
    assert "not a demo folder" in out.getvalue()
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    (tmp_path / "cuckoo.toml").write_text("# Written by `cuckoo demo` for this run only.\n")
    assert is_demo_folder(tmp_path)
