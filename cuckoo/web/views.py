"""Rows → what a page or the API shows: names in the console's language, times in a zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from cuckoo.domain import JsonObject, Outcome, Status
from cuckoo.result_texts import outcome_name, reason_text, status_name
from cuckoo.store.models import AttemptRow, NotificationRow

WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "dashboard": "Сводка",
        "notifications": "Уведомления",
        "blocklist": "Стоп-лист",
        "scenarios": "Сценарии",
        "audit": "Журнал действий",
        "logout": "Выйти",
        "login": "Войти",
        "user": "Пользователь",
        "password": "Пароль",
        "today": "Сегодня",
        "last_30_days": "За 30 дней",
        "calls": "Звонков",
        "sms": "SMS",
        "contacts": "Контактов",
        "in_progress": "Сейчас идут",
        "none": "нет",
        "status": "Статус",
        "tenant": "Организация",
        "scenario": "Сценарий",
        "phone": "Телефон",
        "erp_id": "Номер в ERP",
        "source": "Источник",
        "created": "Создано",
        "from": "с",
        "to": "по",
        "find": "Найти",
        "next_page": "Дальше",
        "first_page": "В начало",
        "attempts": "Попытки",
        "attempt": "Попытка",
        "outcome": "Исход",
        "keys": "Нажатые клавиши",
        "heard": "Услышано",
        "said": "Робот сказал",
        "path": "Путь по сценарию",
        "duration": "Длительность, с",
        "sip_code": "Код SIP",
        "local_time": "Время клиента",
        "utc_time": "UTC",
        "recording": "Запись",
        "sms_sent": "SMS",
        "erp_reports": "Что записано в ERP",
        "cancel": "Отменить",
        "cancel_reason": "Причина",
        "add": "Добавить",
        "remove": "Убрать",
        "reason": "Причина",
        "since": "С",
        "import_csv": "Загрузить CSV",
        "export_csv": "Выгрузить CSV",
        "export_xlsx": "Выгрузить XLSX",
        "per_day": "По дням",
        "per_hour": "По часам (местное время)",
        "by_status": "Уведомления по статусам",
        "detail": "Подробности",
        "variables": "Переменные",
        "next_attempt": "Следующая попытка",
        "all": "все",
        "not_found": "Не найдено",
        "states": "Состояния",
        "sample_text": "Текст для примера",
        "listen": "Слушать",
        "segments": "частей SMS",
        "actor": "Кто",
        "action": "Действие",
        "target": "Что",
        "when": "Когда",
        "dialled": "Набранный номер",
        "receipt": "Отчёт о доставке",
        "confirmed": "Подтвердили",
        "declined": "Отказались",
        "opted_out": "Просят не звонить",
        "exhausted": "Не дозвонились",
        "pending": "В работе",
        "sms_sent_count": "SMS отправлено",
        "sms_delivered": "SMS доставлено",
    },
    "en": {
        "dashboard": "Dashboard",
        "notifications": "Notifications",
        "blocklist": "Do-not-call list",
        "scenarios": "Scenarios",
        "audit": "Audit log",
        "logout": "Log out",
        "login": "Log in",
        "user": "User",
        "password": "Password",
        "today": "Today",
        "last_30_days": "Last 30 days",
        "calls": "Calls",
        "sms": "SMS",
        "contacts": "Contacts",
        "in_progress": "In progress now",
        "none": "none",
        "status": "Status",
        "tenant": "Tenant",
        "scenario": "Scenario",
        "phone": "Phone",
        "erp_id": "ERP id",
        "source": "Source",
        "created": "Created",
        "from": "from",
        "to": "to",
        "find": "Find",
        "next_page": "Next",
        "first_page": "First page",
        "attempts": "Attempts",
        "attempt": "Attempt",
        "outcome": "Outcome",
        "keys": "Keys pressed",
        "heard": "Heard",
        "said": "The robot said",
        "path": "Dialog path",
        "duration": "Duration, s",
        "sip_code": "SIP code",
        "local_time": "Customer's time",
        "utc_time": "UTC",
        "recording": "Recording",
        "sms_sent": "SMS",
        "erp_reports": "Written back to the ERP",
        "cancel": "Cancel",
        "cancel_reason": "Reason",
        "add": "Add",
        "remove": "Remove",
        "reason": "Reason",
        "since": "Since",
        "import_csv": "Import CSV",
        "export_csv": "Export CSV",
        "export_xlsx": "Export XLSX",
        "per_day": "Per day",
        "per_hour": "Per hour of day (local)",
        "by_status": "Notifications by status",
        "detail": "Detail",
        "variables": "Variables",
        "next_attempt": "Next attempt",
        "all": "all",
        "not_found": "Not found",
        "states": "States",
        "sample_text": "Sample text",
        "listen": "Listen",
        "segments": "SMS parts",
        "actor": "Who",
        "action": "Action",
        "target": "What",
        "when": "When",
        "dialled": "Number dialled",
        "receipt": "Delivery receipt",
        "confirmed": "Confirmed",
        "declined": "Declined",
        "opted_out": "Opted out",
        "exhausted": "Not reached",
        "pending": "Pending",
        "sms_sent_count": "SMS sent",
        "sms_delivered": "SMS delivered",
    },
}


class Wording:
    """The console's words, status and outcome names, and times, in one language and zone."""

    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.language = language if language in WORDS else "ru"
        self.zone = zone

    def __call__(self, key: str) -> str:
        return WORDS[self.language].get(key, key)

    def status(self, code: str | None) -> str:
        if not code:
            return ""
        try:
            st = Status(code)
        except ValueError:
            return code
        return status_name(st) if self.language == "ru" else st.value.replace("_", " ")

    def outcome(self, code: str | None) -> str:
        if not code:
            return ""
        try:
            out = Outcome(code)
        except ValueError:
            return code
        return outcome_name(out) if self.language == "ru" else out.value.replace("_", " ")

    def reason(self, detail: str) -> str:
        return reason_text(detail) if self.language == "ru" and detail else detail

    def time(self, at: datetime | None, zone: str | ZoneInfo | None = None) -> str:
        """A time in `zone` (a customer's) or the console's zone, with the zone's abbreviation."""
        if at is None:
            return ""
        z = ZoneInfo(zone) if isinstance(zone, str) else (zone or self.zone)
        return at.astimezone(z).strftime("%Y-%m-%d %H:%M:%S %Z")


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def notification_json(row: NotificationRow) -> JsonObject:
    """A notification as the API shows it (codes, UTC ISO times)."""
    return {
        "id": row.id,
        "source": row.source,
        "external_id": row.external_id,
        "tenant": row.tenant,
        "phone": row.phone,
        "scenario": row.scenario,
        "channel": row.channel,
        "status": row.status,
        "status_text": status_name(Status(row.status)),
        "last_outcome": row.last_outcome,
        "attempts": row.attempts,
        "contacts": row.contacts,
        "next_attempt_at": iso(row.next_attempt_at),
        "last_attempt_at": iso(row.last_attempt_at),
        "not_before": iso(row.not_before),
        "deadline": iso(row.deadline),
        "detail": row.detail,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def attempt_json(att: AttemptRow, row: NotificationRow) -> JsonObject:
    return {
        "id": att.id,
        "notification_id": row.id,
        "external_id": row.external_id,
        "no": att.no,
        "channel": att.channel,
        "started_at": iso(att.started_at),
        "answered_at": iso(att.answered_at),
        "ended_at": iso(att.ended_at),
        "outcome": att.outcome,
        "sip_code": att.sip_code,
        "dtmf": att.dtmf,
        "transcript": att.transcript,
        "duration_s": att.duration_s,
        "callback_at": iso(att.callback_at),
        "detail": att.detail,
        "path": list(att.path),
    }
