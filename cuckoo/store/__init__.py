"""The store: notifications, attempts, the outbox to the ERPs, SMS requested during calls and
the do-not-call list."""

from cuckoo.store.database import default_url, make_engine
from cuckoo.store.outbox import OutboxItem, report_from_json, report_to_json
from cuckoo.store.sms_requests import SmsRequestItem, SmsRequestState
from cuckoo.store.store import (
    AttemptLine,
    IngestReport,
    Store,
)

__all__ = [
    "AttemptLine",
    "IngestReport",
    "OutboxItem",
    "SmsRequestItem",
    "SmsRequestState",
    "Store",
    "default_url",
    "make_engine",
    "report_from_json",
    "report_to_json",
]
