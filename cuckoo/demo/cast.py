"""The demo's customers: who they are in the ERP, what their phone does on each call, and the
outcome that behaviour implies — the table the demo checks every result against."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cuckoo.domain import JsonObject, Outcome, Status
from cuckoo.errors import InputError
from cuckoo.intake.phones import normalize_phone

COMPANY = "ООО «Ромашка»"


@dataclass(frozen=True)
class Expected:
    status: Status  # the notification's status at the end
    outcome: Outcome | None  # of its last attempt (None: no attempt was made)
    attempts: int  # attempts counted by the policy
    contacts: int
    dtmf: str | None = None  # keys of the last attempt, when they matter
    callback: bool = False  # a callback time must have been agreed and written back
    heard_robot: bool = False  # the robot's voice must have reached this phone over RTP
    calls: int = 0  # INVITEs the phone must have received

    @property
    def settles_pending(self) -> bool:
        """The end state is PENDING (a callback is scheduled), not a final status."""
        return not self.status.is_final


@dataclass(frozen=True)
class Customer:
    last_name: str
    first_name: str
    patronymic: str | None
    phone: str  # as the manager typed it
    time_zone: str | None
    city: str
    scenario: str
    number: str  # document number
    plays: str  # what this customer does, for the live table
    calls: list[JsonObject]  # the phone's behaviour per call (last one repeats)
    expect: Expected
    variables: JsonObject = field(default_factory=dict)
    notify_sms: bool = False

    @property
    def name(self) -> str:
        return f"{self.last_name} {self.first_name}"


def _answer_and_press(*presses: tuple[float, str], after_s: float = 0.8) -> JsonObject:
    return {
        "action": "answer",
        "answer_after_s": after_s,
        "dtmf": [{"at_s": at, "keys": keys, "method": "rfc2833"} for at, keys in presses],
    }


DOCS = {"sent_date": "2026-11-16", "period": "октябрь", "company": COMPANY}
CALLBACK = {"company": COMPANY, "topic": "продление договора"}

CAST: list[Customer] = [
    Customer(
        "Иванова",
        "Мария",
        "Петровна",
        "8 (912) 100-00-01",
        "Asia/Yekaterinburg",
        "Екатеринбург",
        "documents_sent",
        "АКТ-000101",
        "answers, presses 1 at once",
        [_answer_and_press((1.5, "1"))],
        Expected(Status.CONFIRMED, Outcome.CONFIRMED, 1, 1, dtmf="1", heard_robot=True, calls=1),
        DOCS,
    ),
    Customer(
        "Петров",
        "Сергей",
        "Иванович",
        "+7 916 100 00 02",
        None,
        "Москва",
        "documents_sent",
        "АКТ-000102",
        "busy, then answers and presses 1",
        [{"action": "busy"}, _answer_and_press((2.0, "1"))],
        Expected(Status.CONFIRMED, Outcome.CONFIRMED, 2, 1, dtmf="1", heard_robot=True, calls=2),
        DOCS,
    ),
    Customer(
        "Сидоренко",
        "Ольга",
        None,
        "8-923-100-00-03",
        None,
        "Новосибирск",
        "documents_sent",
        "АКТ-000103",
        "never answers (rings out every time)",
        [{"action": "never"}],
        Expected(Status.EXHAUSTED, Outcome.NO_ANSWER, 3, 0, calls=3),
        DOCS,
    ),
    Customer(
        "Захарова",
        "Анна",
        "Сергеевна",
        "8 912 100-00-06",
        "Asia/Yekaterinburg",
        "Пермь",
        "callback_offer",
        "ЗК-000104",
        "asks for a callback: 2 (not tomorrow 10), 1 (tomorrow am)",
        [_answer_and_press((1.5, "2"), (3.5, "1"))],
        Expected(
            Status.PENDING,
            Outcome.CALLBACK_REQUESTED,
            1,
            1,
            dtmf="21",
            callback=True,
            heard_robot=True,
            calls=1,
        ),
        CALLBACK,
    ),
    Customer(
        "Смирнова",
        "Елена",
        "Андреевна",
        "+7 916 100-00-07",
        None,
        "Москва",
        "documents_sent",
        "АКТ-000105",
        "answers, presses 2 (not received yet)",
        [_answer_and_press((1.5, "2"))],
        Expected(Status.DECLINED, Outcome.DECLINED, 1, 1, dtmf="2", heard_robot=True, calls=1),
        DOCS,
    ),
    Customer(
        "Ким",
        "Алексей",
        "Викторович",
        "8-914-100-00-05",
        "Asia/Vladivostok",
        "Владивосток",
        "documents_sent",
        "АКТ-000106",
        "number does not exist: the phone network answers 404",
        [{"action": "code", "code": 404}],
        Expected(Status.INVALID, Outcome.INVALID_NUMBER, 1, 0, calls=1),
        DOCS,
    ),
    Customer(
        "Орлова",
        "Наталья",
        "Игоревна",
        "+7 912 100-00-08",
        None,
        "Челябинск",
        "documents_sent",
        "АКТ-000108",
        "voicemail answers first (greeting, beep); then she answers and presses 1",
        [{"action": "voicemail", "beep_hz": 1000}, _answer_and_press((1.5, "1"))],
        # the voicemail call is an attempt but not a contact ([policy] voicemail = "retry")
        Expected(Status.CONFIRMED, Outcome.CONFIRMED, 2, 1, dtmf="1", heard_robot=True, calls=2),
        DOCS,
    ),
    Customer(
        "Абрамов",
        "Олег",
        None,
        "12-34",
        None,
        "Казань",
        "documents_sent",
        "АКТ-000107",
        "phone typed wrong: rejected when read from the ERP",
        [],
        Expected(Status.INVALID, None, 0, 0, calls=0),
        DOCS,
    ),
]


def documents(cast: list[Customer]) -> list[JsonObject]:
    """ERP document rows (with their customers) as the managers flag them."""
    import json

    return [
        {
            "doc_type": "act",
            "number": c.number,
            "doc_date": date(2026, 11, 16),
            "manager": "Котова Е.",
            "last_name": c.last_name,
            "first_name": c.first_name,
            "patronymic": c.patronymic,
            "phone": c.phone,
            "city": c.city,
            "time_zone": c.time_zone,
            "notify_call": True,
            "notify_sms": c.notify_sms,
            "notify_scenario": c.scenario,
            "notify_params": json.dumps(c.variables, ensure_ascii=False),
        }
        for c in cast
    ]


def phones_script(cast: list[Customer]) -> JsonObject:
    """The simulated phones: per E.164 number (the SIP user part the robot dials), its calls."""

    sequences: dict[str, list[JsonObject]] = {}
    for c in cast:
        try:
            e164 = normalize_phone(c.phone)
        except InputError:
            continue  # never dialled
        sequences[e164] = c.calls
    # Anyone else: a number that does not exist.
    return {"default": {"action": "code", "code": 404}, "sequences": sequences}
