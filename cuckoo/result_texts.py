"""What a manager reads in the ERP: a ResultReport in Russian words. Pure: no I/O, no clock.

The store keeps English codes (`Status`, `Outcome`) and English details (the retry policy's
and admission's reasons); this module turns them into the names and the one-line result text
an ERP shows, e.g. «не дозвонились: исчерпано 3 попытки», «перезвонить 20.11 в 11:00 (по
времени клиента)», «неверные данные: неверный номер телефона '12': неверное количество цифр».
`ResultWording` picks per adapter between these ("ru", the default) and the English codes and
details as they are ("en", for ERPs integrated before).

Details come in families (see `reason_text`): the retry policy's "<outcome>: <clause>; …",
the store's and admission's whole sentences, and the adapters' "rejected by cuckoo: <reason>".
A detail or clause no family knows passes through in English rather than being lost.

Adding a Status or an Outcome: one line in STATUS_NAMES / OUTCOME_NAMES
(tests/unit/test_result_texts.py fails until it has a name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from cuckoo.domain import Outcome, ResultReport, Status

__all__ = [
    "OUTCOME_NAMES",
    "STATUS_NAMES",
    "Language",
    "ResultWording",
    "count",
    "outcome_name",
    "plural",
    "reason_text",
    "result_text",
    "status_name",
]

Language = Literal["ru", "en"]

STATUS_NAMES: dict[Status, str] = {
    Status.PENDING: "в работе",
    Status.ACTIVE: "выполняется",
    Status.CONFIRMED: "подтверждено",
    Status.DECLINED: "отказался",
    Status.OPTED_OUT: "просит не звонить",
    Status.OPERATOR_REQUESTED: "просит оператора",
    Status.DELIVERED: "доставлено",
    Status.EXPIRED: "срок истёк",
    Status.EXHAUSTED: "не дозвонились",
    Status.INVALID: "неверные данные",
    Status.BLOCKED: "номер в стоп-листе",
    Status.WRONG_NUMBER: "чужой номер",
    Status.CANCELLED: "отменено",
    Status.FAILED: "ошибка",
}

OUTCOME_NAMES: dict[Outcome, str] = {
    Outcome.CONFIRMED: "подтвердил",
    Outcome.DECLINED: "отказался",
    Outcome.OPTED_OUT: "просит не звонить",
    Outcome.CALLBACK_REQUESTED: "просит перезвонить",
    Outcome.OPERATOR_REQUESTED: "просит оператора",
    Outcome.DELIVERED: "прослушал сообщение",
    Outcome.BUSY: "занято",
    Outcome.NO_ANSWER: "не ответил",
    Outcome.REJECTED: "сбросил вызов",
    Outcome.NETWORK: "сбой связи",
    Outcome.INVALID_NUMBER: "номер не существует",
    Outcome.VOICEMAIL: "автоответчик",
    Outcome.INTERRUPTED: "звонок прервался",
    Outcome.SENT: "SMS отправлено",
    Outcome.UNDELIVERABLE: "SMS не доставлено",
    Outcome.WRONG_NUMBER: "ответил не клиент",
    Outcome.FAILED: "техническая ошибка",
}

# What a final outcome adds to its status's name ("invalid_number: final" → why invalid).
_FINAL_NOTES: dict[Outcome, str] = {
    Outcome.INVALID_NUMBER: "номер не существует",
    Outcome.OPTED_OUT: "номер внесён в стоп-лист",
    Outcome.WRONG_NUMBER: "по этому номеру клиенту больше не звоним",
}


def status_name(status: Status) -> str:
    """The Russian name of a status; its English code if it has none yet."""
    return STATUS_NAMES.get(status, status.value)


def outcome_name(outcome: Outcome) -> str:
    """The Russian name of an outcome; its English code if it has none yet."""
    return OUTCOME_NAMES.get(outcome, outcome.value)


# ---- numbers ------------------------------------------------------------------------------
Forms = tuple[str, str, str]  # for 1, 2 and 5: ("попытка", "попытки", "попыток")


def plural(n: int, forms: Forms) -> str:
    """The form a Russian noun (or a verb agreeing with it) takes after the number n."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def count(n: int, forms: Forms) -> str:
    """The number and its noun: «3 попытки», «5 попыток», «21 попытка»."""
    return f"{n} {plural(n, forms)}"


ATTEMPTS: Forms = ("попытка", "попытки", "попыток")
EXHAUSTED_VERB: Forms = ("исчерпана", "исчерпано", "исчерпано")
CONTACTS: Forms = ("контакт", "контакта", "контактов")
FAILURES: Forms = ("сбой", "сбоя", "сбоев")
TIMES: Forms = ("раз", "раза", "раз")
DAYS: Forms = ("день", "дня", "дней")


def _duration(text: str) -> str:
    """The policy's "15 min", "2 h", "2 h 30 min", "3 d" in Russian."""
    m = re.fullmatch(r"(\d+) d", text)
    if m:
        return count(int(m.group(1)), DAYS)
    return text.replace(" min", " мин").replace(" h", " ч")


# ---- times --------------------------------------------------------------------------------
def _day_time(at: datetime) -> str:
    return f"{at:%d.%m} в {at:%H:%M}"


def _customer_time(text: str) -> str:
    """The policy's customer-local "2026-11-20 11:00 Europe/Moscow" → «20.11 в 11:00 (по
    времени клиента)»."""
    at = datetime.strptime(text.rsplit(" ", 1)[0], "%Y-%m-%d %H:%M")
    return f"{_day_time(at)} (по времени клиента)"


def _erp_time(text: str, zone: ZoneInfo) -> str:
    """An ISO time with its offset (a deadline) → «24.11 в 08:00» in the ERP's zone."""
    at = datetime.fromisoformat(text)
    return _day_time(at.astimezone(zone) if at.tzinfo is not None else at)


_OUTCOME_CODES: frozenset[str] = frozenset(o.value for o in Outcome)

# ---- the families of details --------------------------------------------------------------
_LOCAL = r"(\d{4}-\d\d-\d\d \d\d:\d\d \S+)"  # policy.retry._local
_ISO = r"(\d{4}-\d\d-\d\dT\S+)"  # datetime.isoformat()
_Q = r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"  # a value as repr() quotes it

Render = Callable[[re.Match[str], ZoneInfo], str]


def _rules(table: list[tuple[str, Render]]) -> list[tuple[re.Pattern[str], Render]]:
    return [(re.compile(pattern), render) for pattern, render in table]


# One clause of the retry policy's reason (cuckoo.policy.retry), after "<outcome>: ".
_CLAUSES = _rules(
    [
        (r"SMS accepted by the gateway", lambda m, z: "SMS принято оператором связи"),
        (r"message heard", lambda m, z: "сообщение прослушано"),
        (r"delivered_final is set", lambda m, z: ""),
        (r"message left on voicemail", lambda m, z: "сообщение оставлено на автоответчике"),
        (
            r"deadline " + _ISO + r" has passed",
            lambda m, z: f"крайний срок {_erp_time(m[1], z)} прошёл",
        ),
        (
            r"callback requested but the cap of (\d+) attempts is reached",
            lambda m, z: (
                "клиент просил перезвонить, но "
                f"{plural(int(m[1]), EXHAUSTED_VERB)} {count(int(m[1]), ATTEMPTS)}"
            ),
        ),
        (
            r"barrier of (\d+) contacts reached",
            lambda m, z: f"исчерпан предел в {count(int(m[1]), CONTACTS)} с клиентом",
        ),
        (
            r"(\d+) network failures \(cap (\d+)\)",
            lambda m, z: f"{count(int(m[1]), FAILURES)} связи (предел {m[2]})",
        ),
        (
            r"cap of (\d+) attempts reached",
            lambda m, z: f"{plural(int(m[1]), EXHAUSTED_VERB)} {count(int(m[1]), ATTEMPTS)}",
        ),
        (
            r"rejected (\d+) times",
            lambda m, z: f"клиент сбросил вызов {count(int(m[1]), TIMES)}",
        ),
        (r"falling back to SMS", lambda m, z: "переходим на SMS"),
        (r"not dialled: (.+)", lambda m, z: f"не звонили: {reason_text(m[1], z.key)}"),
        (
            r"after the answer: (.+)",
            lambda m, z: f"сбой после ответа, клиенту принесли извинения: {m[1]}",
        ),
        (
            r"no time given, call back in (.+)",
            lambda m, z: f"время не назвал, перезвоним через {_duration(m[1])}",
        ),
        (
            r"call back at " + _LOCAL + " as asked",
            lambda m, z: f"перезвонить {_customer_time(m[1])}",
        ),
        (
            r"retry in (.+) \(attempt (\d+) of (\d+)\)",
            lambda m, z: f"повтор через {_duration(m[1])} (попытка {m[2]} из {m[3]})",
        ),
        (
            r"retry in (.+) \(network failure (\d+) of (\d+), not counted as an attempt\)",
            lambda m, z: (
                f"повтор через {_duration(m[1])} "
                f"(сбой связи {m[2]} из {m[3]}, не считается попыткой)"
            ),
        ),
        (
            r"outside the calling window, moved to " + _LOCAL,
            lambda m, z: f"вне окна звонков, перенесено на {_customer_time(m[1])}",
        ),
        (
            r"that is after the deadline " + _ISO,
            lambda m, z: f"это позже крайнего срока {_erp_time(m[1], z)}",
        ),
    ]
)

_PHONE_PROBLEMS = {
    "contains letters": "в номере есть буквы",
    "wrong number of digits": "неверное количество цифр",
    "no such number range": "такого диапазона номеров нет",
}


def _phone_problem(m: re.Match[str], z: ZoneInfo) -> str:
    problem = m[2]
    if problem.startswith("not a phone number"):
        said = "это не номер телефона"
    elif problem.startswith("has an extension"):
        ext = re.match(r"has an extension \(([^)]*)\)", problem)
        said = f"добавочный {ext[1] if ext else ''}: нужен прямой номер".replace("  ", " ")
    elif problem.startswith("expected text"):
        said = "ожидался текст"
    else:
        said = _PHONE_PROBLEMS.get(problem, problem)
    return f"неверный номер телефона {m[1]}: {said}"


def _scenario_problems(m: re.Match[str], z: ZoneInfo) -> str:
    """dialog.loader.check_variables: one problem per text and variable; a manager needs
    each missing variable once."""
    said: dict[str, None] = {}
    for problem in m[2].split("; "):
        gap = re.fullmatch(r"\S+: variable '([^']+)' is missing", problem)
        said[f"нет переменной {gap[1]}" if gap else problem] = None
    return f"сценарий {m[1]}: " + "; ".join(said)


_FIELD_NAMES = {"not_before": "«не ранее»", "deadline": "крайний срок"}

# A whole detail that is not the retry policy's: the store's, admission's (cuckoo.intake) and
# the adapters' (adapters.mapping, the csv adapter) reasons.
_WHOLE = _rules(
    [
        (r"deadline passed", lambda m, z: ""),
        # cuckoo.store.cancels: who cancelled, and how a call that was under way ended
        (
            r"(.+); the call under way ended (\w+)",
            lambda m, z: (
                f"{reason_text(m[1], z.key)}; начатый звонок закончился: "
                f"{outcome_name(Outcome(m[2])) if m[2] in _OUTCOME_CODES else m[2]}"
            ),
        ),
        (r"withdrawn in the ERP", lambda m, z: "снято в ERP"),
        (
            r"no consent to calls on record \(tenant " + _Q + r" requires one: (.*)\)",
            lambda m, z: (
                f"нет записи о согласии клиента на звонки (обязательна для {m[1]}: {m[2]})"
            ),
        ),
        (
            r"variable " + _Q + r" is (\d+) characters long \(the limit is (\d+): (.*)\)",
            lambda m, z: f"переменная {m[1]}: {m[2]} символов (предел {m[3]}: {m[4]})",
        ),
        (
            r"cancelled by hand(?:: (.+))?",
            lambda m, z: "вручную" + (f" ({m[1]})" if m[1] else ""),
        ),
        (
            r"cancelled through the API(?:: (.+))?",
            lambda m, z: "через API" + (f" ({m[1]})" if m[1] else ""),
        ),
        (r"(\+?\d+) is on the do-not-call list", lambda m, z: m[1]),
        (
            r"wrong number: somebody else answered (\+?\d+) for this customer before; not "
            r"dialled until the number is fixed \(.*?\)(?:; answered so in (\S+))?",
            lambda m, z: (
                f"по номеру {m[1]} ответил не клиент"
                + (f" (звонок по {m[2]})" if m[2] else "")
                + f"; не звоним, пока номер не исправят (`cuckoo unblock --wrong-number {m[1]}`)"
            ),
        ),
        (
            r"first opening " + _LOCAL + " is after the deadline " + _ISO,
            lambda m, z: (
                f"ближайшее время для звонка {_customer_time(m[1])} позже крайнего "
                f"срока {_erp_time(m[2], z)}"
            ),
        ),
        (r"phone is empty", lambda m, z: "не указан номер телефона"),
        (
            r"phone (\S.*?): none of its (\d+) numbers can be dialled: .*",
            lambda m, z: f"неверный номер телефона {m[1]}: ни один из {m[2]} номеров не набирается",
        ),
        (r"phone (\S.*?): ((?:contains|wrong|no such|not a|has an|expected).*)", _phone_problem),
        (
            r"channel " + _Q + r": not one of (.+)",
            lambda m, z: f"неизвестный канал {m[1]} (допустимы: {m[2]})",
        ),
        (
            r"unknown channel " + _Q + r" \(use call, sms or call_then_sms\)",
            lambda m, z: f"неизвестный канал {m[1]} (допустимы: call, sms, call_then_sms)",
        ),
        (
            r"variables are not JSON-serializable: (.*)",
            lambda m, z: f"переменные не записываются в JSON: {m[1]}",
        ),
        (
            r"unknown scenario (?:''|\"\") \(known: (.*)\)",
            lambda m, z: f"не указан сценарий (есть: {m[1]})",
        ),
        (
            r"unknown scenario " + _Q + r" \(known: (.*)\)",
            lambda m, z: f"неизвестный сценарий {m[1]} (есть: {m[2]})",
        ),
        (r"scenario " + _Q + r": (.+)", _scenario_problems),
        (
            r"(not_before|deadline) (\S+) has no time zone",
            lambda m, z: f"{_FIELD_NAMES[m[1]]} {m[2]} без часового пояса",
        ),
        (
            r"time zone " + _Q + r": not an IANA zone name.*",
            lambda m, z: f"неизвестный часовой пояс {m[1]} (нужно, например, 'Europe/Moscow')",
        ),
        (r"unknown time zone " + _Q, lambda m, z: f"неизвестный часовой пояс {m[1]}"),
        (
            r"time zone " + _Q + r": only whole-hour offsets are supported",
            lambda m, z: f"часовой пояс {m[1]}: поддерживается только смещение на целые часы",
        ),
        (
            r"time zone " + _Q + r": offset out of range",
            lambda m, z: f"часовой пояс {m[1]}: смещение вне допустимого диапазона",
        ),
        (r"not a date/time: (.*)", lambda m, z: f"не дата и не время: {m[1]}"),
        (r"not a yes/no value: (.*)", lambda m, z: f"не «да» и не «нет»: {m[1]}"),
        (
            r"neither the call nor the SMS flag is set",
            lambda m, z: "не отмечено ни «уведомить звонком», ни «уведомить SMS»",
        ),
        (
            r"variables: not valid JSON: (.*) at char (\d+)",
            lambda m, z: f"переменные: неверный JSON ({m[1]}, символ {m[2]})",
        ),
        (r"variables: expected a JSON object", lambda m, z: "переменные: нужен объект JSON"),
        (
            r"scenario is empty and no default_scenario",
            lambda m, z: "не указан сценарий (и нет default_scenario)",
        ),
        (r"no (\S+) value", lambda m, z: f"нет значения {m[1]}"),
    ]
)

_REJECTED = "rejected by cuckoo: "  # adapters.base.RejectedRows


def _first(rules: list[tuple[re.Pattern[str], Render]], text: str, zone: ZoneInfo) -> str | None:
    for pattern, render in rules:
        m = pattern.fullmatch(text)
        if m:
            return render(m, zone)
    return None


def reason_text(detail: str, erp_zone: str = "UTC") -> str:
    """The Russian for a report's English `detail` (without the status's name); "" when the
    status's name says it all. Unknown details and clauses pass through as they are."""
    zone = ZoneInfo(erp_zone)
    text = detail.strip()
    if text.startswith(_REJECTED):
        text = text[len(_REJECTED) :]
    head, sep, rest = text.partition(": ")
    if sep and head in _OUTCOME_CODES:
        if rest == "final":
            return _FINAL_NOTES.get(Outcome(head), "")
        return "; ".join(said or raw for said, raw in _clauses(rest, zone))
    whole = _first(_WHOLE, text, zone)
    return text if whole is None else whole


def _clauses(rest: str, zone: ZoneInfo) -> list[tuple[str | None, str]]:
    """Each clause's Russian (None: unknown) beside its English, "" clauses dropped."""
    out: list[tuple[str | None, str]] = []
    for raw in rest.split("; "):
        said = _first(_CLAUSES, raw, zone)
        if said != "":
            out.append((said, raw))
    return out


def _headline(report: ResultReport) -> str:
    """The status's name, said so that it fits the figures that follow."""
    if report.status == Status.EXHAUSTED:
        if report.outcome == Outcome.UNDELIVERABLE:
            return outcome_name(Outcome.UNDELIVERABLE)
        if report.contacts > 0:  # reached, but it never came to a result
            return "без результата"
    if report.status == Status.PENDING and report.outcome is not None:
        return outcome_name(report.outcome)
    return status_name(report.status)


def result_text(report: ResultReport, erp_zone: str = "UTC") -> str:
    """The one line a manager reads: «не дозвонились: исчерпано 3 попытки». Times of the
    customer's callback are the customer's; deadlines are shown in `erp_zone`."""
    reason = reason_text(report.detail, erp_zone)
    callback = report.status == Status.PENDING and report.outcome == Outcome.CALLBACK_REQUESTED
    if callback and reason.startswith(("перезвонить", "время не назвал")):
        return reason  # «перезвонить 20.11 в 11:00 (по времени клиента)» says it all
    headline = _headline(report)
    return f"{headline}: {reason}" if reason else headline


@dataclass(frozen=True)
class ResultWording:
    """How one adapter writes results back: Russian names and texts ("ru") or the English
    codes and details ("en"); `status_names` overrides the name sent for a status (by its
    code: {"confirmed": "1"}) in either language."""

    language: Language = "ru"
    status_names: Mapping[str, str] = field(default_factory=dict)
    erp_timezone: str = "UTC"

    def status(self, status: Status) -> str:
        if status.value in self.status_names:
            return self.status_names[status.value]
        return status_name(status) if self.language == "ru" else status.value

    def outcome(self, outcome: Outcome | None) -> str | None:
        if outcome is None:
            return None
        return outcome_name(outcome) if self.language == "ru" else outcome.value

    def detail(self, report: ResultReport) -> str:
        return result_text(report, self.erp_timezone) if self.language == "ru" else report.detail
