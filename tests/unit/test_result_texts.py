"""cuckoo.result_texts: every status and outcome has a Russian name, plural forms, and each
family of details the store, the retry policy, admission and the adapters really produce (made
here by calling them) reads in Russian; an unknown detail passes through.

NOW is Wednesday 2026-11-18 12:00 Moscow (09:00Z), inside the default calling window.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.mapping import RowDefaults, RowError, json_safe, map_row
from cuckoo.config.policy import PolicySettings
from cuckoo.dialog.loader import check_variables, load_named
from cuckoo.domain import ChannelKind, IncomingNotification, Outcome, ResultReport, Status
from cuckoo.intake.admission import AdmissionContext, Rejected, admit, wrong_number_reason
from cuckoo.policy.retry import AttemptHistory, RetryPolicy, decide
from cuckoo.policy.windows import CallingWindow
from cuckoo.result_texts import (
    ATTEMPTS,
    OUTCOME_NAMES,
    STATUS_NAMES,
    ResultWording,
    count,
    outcome_name,
    plural,
    reason_text,
    result_text,
    status_name,
)

ROOT = Path(__file__).resolve().parents[2]
MSK = "Europe/Moscow"
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
CALL, SMS, BOTH = ChannelKind.CALL, ChannelKind.SMS, ChannelKind.CALL_THEN_SMS


# ---- names ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_russian_name(status: Status) -> None:
    assert status in STATUS_NAMES, f"add {status!r} to cuckoo.result_texts.STATUS_NAMES"
    assert re.search("[а-яё]", status_name(status))


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_has_a_russian_name(outcome: Outcome) -> None:
    assert outcome in OUTCOME_NAMES, f"add {outcome!r} to cuckoo.result_texts.OUTCOME_NAMES"
    assert re.search("[а-яё]", outcome_name(outcome))


def test_names_tell_statuses_and_outcomes_apart() -> None:
    assert len(set(STATUS_NAMES.values())) == len(STATUS_NAMES)
    assert len(set(OUTCOME_NAMES.values())) == len(OUTCOME_NAMES)


def test_the_names_the_erp_shows() -> None:
    assert [status_name(s) for s in (Status.CONFIRMED, Status.EXHAUSTED, Status.BLOCKED)] == [
        "подтверждено",
        "не дозвонились",
        "номер в стоп-листе",
    ]
    assert [outcome_name(o) for o in (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.VOICEMAIL)] == [
        "занято",
        "не ответил",
        "автоответчик",
    ]


# ---- plural forms ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "said"),
    [
        (0, "0 попыток"),
        (1, "1 попытка"),
        (2, "2 попытки"),
        (3, "3 попытки"),
        (4, "4 попытки"),
        (5, "5 попыток"),
        (11, "11 попыток"),
        (12, "12 попыток"),
        (14, "14 попыток"),
        (21, "21 попытка"),
        (22, "22 попытки"),
        (25, "25 попыток"),
        (101, "101 попытка"),
        (111, "111 попыток"),
        (1000, "1000 попыток"),
    ],
)
def test_plural_forms(n: int, said: str) -> None:
    assert count(n, ATTEMPTS) == said


def test_the_verb_agrees_with_the_number() -> None:
    texts = [reason_text(f"no_answer: cap of {n} attempts reached") for n in (1, 2, 5, 21, 111)]
    assert texts == [
        "исчерпана 1 попытка",
        "исчерпано 2 попытки",
        "исчерпано 5 попыток",
        "исчерпана 21 попытка",
        "исчерпано 111 попыток",
    ]
    assert plural(-1, ("a", "b", "c")) == "a"


# ---- the retry policy's details, made by decide() -------------------------------------------
def decided(
    outcome: Outcome,
    *,
    attempts: int = 1,
    contacts: int = 0,
    network: int = 0,
    rejections: int = 0,
    channel: ChannelKind = CALL,
    current: ChannelKind = CALL,
    deadline: datetime | None = None,
    callback_at: datetime | None = None,
    policy: RetryPolicy | None = None,
    now: datetime = NOW,
) -> tuple[Status, str]:
    history = AttemptHistory(attempts, contacts, network, rejections, channel, current, deadline)
    d = decide(history, outcome, callback_at, now, MSK, policy or RetryPolicy(), CallingWindow())
    return d.status, d.reason


def report(status: Status, outcome: Outcome | None, detail: str, **kw: Any) -> ResultReport:
    return ResultReport(
        source="erp",
        external_id="1",
        status=status,
        outcome=outcome,
        attempts=kw.pop("attempts", 1),
        contacts=kw.pop("contacts", 0),
        last_attempt_at=NOW,
        detail=detail,
        **kw,
    )


def text_after(outcome: Outcome, **kw: Any) -> str:
    """The result text a manager reads after decide() ends (or reschedules) a notification."""
    status, why = decided(outcome, **kw)
    return result_text(report(status, outcome, why, contacts=kw.get("contacts", 0)), MSK)


@pytest.mark.parametrize(
    ("outcome", "kw", "said"),
    [
        (Outcome.CONFIRMED, {}, "подтверждено"),
        (Outcome.DECLINED, {}, "отказался"),
        (Outcome.OPTED_OUT, {}, "просит не звонить: номер внесён в стоп-лист"),
        (Outcome.OPERATOR_REQUESTED, {}, "просит оператора"),
        (Outcome.INVALID_NUMBER, {}, "неверные данные: номер не существует"),
        (
            Outcome.WRONG_NUMBER,
            {},
            "чужой номер: по этому номеру клиенту больше не звоним",
        ),
        (
            Outcome.SENT,
            {"channel": SMS, "current": SMS},
            "доставлено: SMS принято оператором связи",
        ),
        (
            Outcome.DELIVERED,
            {"policy": RetryPolicy(delivered_final=True)},
            "доставлено: сообщение прослушано",
        ),
        (
            Outcome.VOICEMAIL,
            {"policy": RetryPolicy(voicemail="final")},
            "доставлено: сообщение оставлено на автоответчике",
        ),
        (
            Outcome.NO_ANSWER,
            {"attempts": 3, "policy": RetryPolicy(max_attempts=3)},
            "не дозвонились: исчерпано 3 попытки",
        ),
        (
            Outcome.BUSY,
            {"attempts": 1, "policy": RetryPolicy(max_attempts=1)},
            "не дозвонились: исчерпана 1 попытка",
        ),
        (
            Outcome.UNDELIVERABLE,
            {"attempts": 3, "channel": SMS, "current": SMS},
            "SMS не доставлено: исчерпано 3 попытки",
        ),
        (
            Outcome.DELIVERED,
            {"attempts": 3, "contacts": 2},
            "без результата: исчерпан предел в 3 контакта с клиентом",
        ),
        (
            Outcome.CALLBACK_REQUESTED,
            {"attempts": 6, "contacts": 1},
            "без результата: клиент просил перезвонить, но исчерпано 6 попыток",
        ),
        (Outcome.NETWORK, {"network": 5}, "не дозвонились: 5 сбоев связи (предел 5)"),
        (Outcome.REJECTED, {"rejections": 2}, "не дозвонились: клиент сбросил вызов 2 раза"),
        (
            Outcome.NO_ANSWER,
            {"deadline": NOW - timedelta(minutes=1)},
            "срок истёк: крайний срок 18.11 в 11:59 прошёл",
        ),
        (
            Outcome.BUSY,
            {"deadline": NOW + timedelta(minutes=10)},
            "срок истёк: повтор через 15 мин (попытка 1 из 6); "
            "это позже крайнего срока 18.11 в 12:10",
        ),
        (
            Outcome.NO_ANSWER,
            {
                "now": datetime(2026, 11, 18, 16, 30, tzinfo=UTC),
                "deadline": NOW + timedelta(hours=20),
            },
            "срок истёк: повтор через 1 ч (попытка 1 из 6); вне окна звонков, перенесено на "
            "19.11 в 09:00 (по времени клиента); это позже крайнего срока 19.11 в 08:00",
        ),
        (
            Outcome.CALLBACK_REQUESTED,
            {"callback_at": datetime(2026, 11, 20, 11, 0, tzinfo=ZoneInfo(MSK))},
            "перезвонить 20.11 в 11:00 (по времени клиента)",
        ),
        (
            Outcome.CALLBACK_REQUESTED,
            {"callback_at": datetime(2026, 11, 20, 22, 30, tzinfo=ZoneInfo(MSK))},
            "перезвонить 20.11 в 22:30 (по времени клиента); вне окна звонков, перенесено на "
            "21.11 в 10:00 (по времени клиента)",  # Saturday's window opens at 10
        ),
        (Outcome.CALLBACK_REQUESTED, {}, "время не назвал, перезвоним через 2 ч"),
    ],
)
def test_policy_details(outcome: Outcome, kw: dict[str, Any], said: str) -> None:
    assert text_after(outcome, **kw) == said


@pytest.mark.parametrize(
    ("outcome", "kw", "said"),
    [
        (Outcome.BUSY, {}, "повтор через 15 мин (попытка 1 из 6)"),
        (
            Outcome.NETWORK,
            {"network": 2},
            "повтор через 5 мин (сбой связи 2 из 5, не считается попыткой)",
        ),
        (
            Outcome.NO_ANSWER,
            {"attempts": 6, "channel": BOTH},
            "исчерпано 6 попыток; переходим на SMS",
        ),
        (
            Outcome.NO_ANSWER,
            {"policy": RetryPolicy.model_validate({"retry_after": {"no_answer": 2880}})},
            "повтор через 2 дня (попытка 1 из 6)",
        ),
        (
            Outcome.NO_ANSWER,
            {"policy": RetryPolicy.model_validate({"retry_after": {"no_answer": 150}})},
            "повтор через 2 ч 30 мин (попытка 1 из 6)",
        ),
    ],
)
def test_pending_details(outcome: Outcome, kw: dict[str, Any], said: str) -> None:
    status, why = decided(outcome, **kw)
    assert status == Status.PENDING
    assert reason_text(why, MSK) == said


# ---- admission's and the store's details ----------------------------------------------------
def rejected(**kw: Any) -> Rejected:
    base: dict[str, Any] = {
        "source": "erp",
        "external_id": "1",
        "phone": "8 (912) 345-67-89",
        "scenario": "order_ready",
        "timezone": MSK,
    }
    scenarios = ROOT / "scenarios"
    context = AdmissionContext(
        policy=PolicySettings(),
        known_scenarios=["order_ready", "documents_sent"],
        check_variables=lambda name, v: check_variables(load_named(scenarios, name), v),
        blocked={"+79123456789"} if kw.pop("blocked", False) else frozenset(),
    )
    example = load_named(scenarios, "order_ready").variables  # the scenario's own: it fits
    base["variables"] = json_safe(example)
    verdict = admit(IncomingNotification(**{**base, **kw}), context, NOW)
    assert isinstance(verdict, Rejected), verdict
    return verdict


def admission_text(**kw: Any) -> str:
    r = rejected(**kw)
    return result_text(report(r.status, None, r.reason, attempts=0), MSK)


@pytest.mark.parametrize(
    ("kw", "said"),
    [
        ({"phone": ""}, "неверные данные: не указан номер телефона"),
        (
            {"phone": "12"},
            "неверные данные: неверный номер телефона '12': неверное количество цифр",
        ),
        (
            {"phone": "звонить Ивану"},
            "неверные данные: неверный номер телефона 'звонить Ивану': в номере есть буквы",
        ),
        (
            {"phone": "+7 000 000 00 00"},
            "неверные данные: неверный номер телефона '+7 000 000 00 00': "
            "такого диапазона номеров нет",
        ),
        (
            {"phone": "8 912 345 67 89 доб. 12"},
            "неверные данные: неверный номер телефона '8 912 345 67 89 доб. 12': "
            "добавочный 12: нужен прямой номер",
        ),
        (
            {"phone": "++"},
            "неверные данные: неверный номер телефона '++': это не номер телефона",
        ),
        (
            {"channel": "fax"},
            "неверные данные: неизвестный канал 'fax' (допустимы: call, sms, call_then_sms)",
        ),
        (
            {"scenario": "nope"},
            "неверные данные: неизвестный сценарий 'nope' (есть: documents_sent, order_ready)",
        ),
        (
            {"scenario": ""},
            "неверные данные: не указан сценарий (есть: documents_sent, order_ready)",
        ),
        (
            {"scenario": "documents_sent"},
            "неверные данные: сценарий 'documents_sent': нет переменной customer.patronymic; "
            "нет переменной sent_date; нет переменной period; нет переменной company",
        ),
        (
            {"deadline": datetime(2026, 12, 1)},
            "неверные данные: крайний срок 2026-12-01T00:00:00 без часового пояса",
        ),
        (
            {"not_before": datetime(2026, 12, 1)},
            "неверные данные: «не ранее» 2026-12-01T00:00:00 без часового пояса",
        ),
        (
            {"timezone": "MSK"},
            "неверные данные: неизвестный часовой пояс 'MSK' (нужно, например, 'Europe/Moscow')",
        ),
        ({"blocked": True}, "номер в стоп-листе: +79123456789"),
        (
            {"variables": {"keep_until": datetime(2026, 11, 27).date()}},
            "неверные данные: переменные не записываются в JSON: "
            "Object of type date is not JSON serializable",
        ),
        (
            {"not_before": NOW + timedelta(hours=9), "deadline": NOW + timedelta(hours=10)},
            "срок истёк: ближайшее время для звонка 19.11 в 09:00 (по времени клиента) позже "
            "крайнего срока 18.11 в 22:00",  # the window closes at 20:00
        ),
    ],
)
def test_admission_details(kw: dict[str, Any], said: str) -> None:
    if kw.get("scenario") == "documents_sent":
        # which variables the shipped scenario needs: the text lists each one once
        needs = rejected(**kw).reason
        assert needs.count("sent_date") > 1
    assert admission_text(**kw) == said


def test_a_recorded_wrong_number() -> None:
    # cuckoo.store.wrong_numbers: a new notification (intake) and the customer's other ones
    alone = wrong_number_reason("+79123456789")
    closed = f"{alone}; answered so in shop/42"
    tail = "не звоним, пока номер не исправят (`cuckoo unblock --wrong-number +79123456789`)"
    assert result_text(report(Status.WRONG_NUMBER, None, alone)) == (
        f"чужой номер: по номеру +79123456789 ответил не клиент; {tail}"
    )
    assert result_text(report(Status.WRONG_NUMBER, None, closed)) == (
        f"чужой номер: по номеру +79123456789 ответил не клиент (звонок по shop/42); {tail}"
    )


def test_the_stores_own_details() -> None:
    # cuckoo.store.notifications: a row whose deadline passed before it was tried, a number
    # blocked since it was admitted
    assert result_text(report(Status.EXPIRED, None, "deadline passed")) == "срок истёк"
    blocked = report(Status.BLOCKED, None, "+79123456789 is on the do-not-call list")
    assert result_text(blocked) == "номер в стоп-листе: +79123456789"


# ---- the adapters' rejected rows, made by map_row() -----------------------------------------
def row_reason(row: dict[str, Any]) -> str:
    with pytest.raises(RowError) as e:
        map_row("erp", {"external_id": "7", "phone": "+79123456789", **row}, RowDefaults())
    return f"rejected by cuckoo: {e.value.reason}"  # as adapters.base.RejectedRows reports it


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ({"channel": "fax"}, "неизвестный канал 'fax' (допустимы: call, sms, call_then_sms)"),
        ({"timezone": "Луна/Море"}, "неизвестный часовой пояс 'Луна/Море'"),
        (
            {"timezone": "+05:30"},
            "часовой пояс '+05:30': поддерживается только смещение на целые часы",
        ),
        ({"timezone": "UTC+15"}, "часовой пояс 'UTC+15': смещение вне допустимого диапазона"),
        ({"deadline": "завтра"}, "не дата и не время: 'завтра'"),
        ({"call_flag": "может быть"}, "не «да» и не «нет»: 'может быть'"),
        (
            {"call_flag": "нет", "sms_flag": "нет"},
            "не отмечено ни «уведомить звонком», ни «уведомить SMS»",
        ),
        (
            {"variables": "{oops"},
            "переменные: неверный JSON (Expecting property name enclosed in double quotes, "
            "символ 1)",
        ),
        ({"variables": "[1]"}, "переменные: нужен объект JSON"),
    ],
)
def test_rejected_row_details(row: dict[str, Any], said: str) -> None:
    text = result_text(report(Status.INVALID, None, row_reason(row), attempts=0))
    assert text == f"неверные данные: {said}"


def test_csv_rows_without_phone_or_scenario() -> None:
    for reason, said in [
        ("phone is empty", "не указан номер телефона"),
        (
            "scenario is empty and no default_scenario",
            "не указан сценарий (и нет default_scenario)",
        ),
    ]:
        r = report(Status.INVALID, None, f"rejected by cuckoo: {reason}", attempts=0)
        assert result_text(r) == f"неверные данные: {said}"


# ---- what is not known passes through -------------------------------------------------------
def test_an_unknown_detail_passes_through() -> None:
    r = report(Status.INVALID, None, "the ERP said: something new")
    assert result_text(r) == "неверные данные: the ERP said: something new"
    # an unknown clause of a known outcome keeps its words; the known ones are translated
    mixed = "busy: cap of 2 attempts reached; a clause from a newer policy"
    assert reason_text(mixed) == "исчерпано 2 попытки; a clause from a newer policy"
    assert result_text(report(Status.CONFIRMED, Outcome.CONFIRMED, "")) == "подтверждено"


# ---- the wording an adapter picks -----------------------------------------------------------
def test_wording_ru_en_and_status_names() -> None:
    r = report(Status.EXHAUSTED, Outcome.NO_ANSWER, "no_answer: cap of 3 attempts reached")
    ru, en = ResultWording(), ResultWording("en")
    assert (ru.status(r.status), ru.outcome(r.outcome), ru.detail(r)) == (
        "не дозвонились",
        "не ответил",
        "не дозвонились: исчерпано 3 попытки",
    )
    assert (en.status(r.status), en.outcome(r.outcome), en.detail(r)) == (
        "exhausted",
        "no_answer",
        "no_answer: cap of 3 attempts reached",
    )
    numbers = ResultWording("ru", {"exhausted": "4", "confirmed": "1"})
    assert (numbers.status(Status.EXHAUSTED), numbers.status(Status.DECLINED)) == ("4", "отказался")
    assert ResultWording("en", {"exhausted": "4"}).status(Status.EXHAUSTED) == "4"
    assert ru.outcome(None) is None


def test_deadlines_are_shown_in_the_erps_zone() -> None:
    why = "no_answer: deadline 2026-11-24T05:00:00+00:00 has passed"
    assert reason_text(why, "Asia/Yekaterinburg") == "крайний срок 24.11 в 10:00 прошёл"
    assert reason_text(why) == "крайний срок 24.11 в 05:00 прошёл"
