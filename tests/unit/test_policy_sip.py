"""SIP final responses and Q.850 causes → outcome (cuckoo.telephony.outcomes), and the
customer's zone (cuckoo.intake.timezones.resolve_timezone)."""

from __future__ import annotations

import pytest

from cuckoo.domain import Outcome
from cuckoo.errors import InputError
from cuckoo.intake.timezones import resolve_timezone
from cuckoo.telephony.outcomes import outcome_for_sip

SIP_TABLE = [
    (486, Outcome.BUSY),
    (600, Outcome.BUSY),
    (480, Outcome.NO_ANSWER),
    (408, Outcome.NO_ANSWER),
    (487, Outcome.NO_ANSWER),  # our CANCEL after the ring timeout
    (603, Outcome.REJECTED),
    (403, Outcome.REJECTED),
    (500, Outcome.NETWORK),
    (502, Outcome.NETWORK),
    (503, Outcome.NETWORK),
    (504, Outcome.NETWORK),
    (404, Outcome.INVALID_NUMBER),
    (484, Outcome.INVALID_NUMBER),
    (410, Outcome.INVALID_NUMBER),
    (604, Outcome.INVALID_NUMBER),
    (485, Outcome.INVALID_NUMBER),
    # Not in the table: our side's or the carrier's trouble.
    (401, Outcome.NETWORK),
    (407, Outcome.NETWORK),
    (488, Outcome.NETWORK),
    (501, Outcome.NETWORK),
    (580, Outcome.NETWORK),
    (302, Outcome.NETWORK),
    (606, Outcome.NETWORK),
    (None, Outcome.NETWORK),  # no final response at all
]


@pytest.mark.parametrize(("code", "outcome"), SIP_TABLE)
def test_sip_code(code: int | None, outcome: Outcome) -> None:
    assert outcome_for_sip(code) == outcome


Q850_TABLE = [
    # (Q.850 cause, SIP code the trunk chose, outcome): a known cause wins over the SIP code.
    (17, 486, Outcome.BUSY),
    (17, 480, Outcome.BUSY),  # user busy, whatever SIP code it came with
    (17, None, Outcome.BUSY),
    (18, 408, Outcome.NO_ANSWER),
    (19, 480, Outcome.NO_ANSWER),
    (20, 480, Outcome.NO_ANSWER),  # subscriber absent: the mobile is off
    (31, 480, Outcome.NO_ANSWER),
    (21, 403, Outcome.REJECTED),
    (21, 603, Outcome.REJECTED),
    (1, 404, Outcome.INVALID_NUMBER),  # unallocated number
    (1, 480, Outcome.INVALID_NUMBER),
    (22, 410, Outcome.INVALID_NUMBER),  # number changed
    (28, 484, Outcome.INVALID_NUMBER),
    (3, 404, Outcome.NETWORK),  # no route: the carrier's routing, not proof of a bad number
    (27, 502, Outcome.NETWORK),
    (34, 503, Outcome.NETWORK),
    (38, 503, Outcome.NETWORK),
    (41, 503, Outcome.NETWORK),
    (42, 503, Outcome.NETWORK),
    (47, 503, Outcome.NETWORK),
    (102, 504, Outcome.NETWORK),
    # Causes not in the table (16 normal clearing, 127 interworking, 999 junk) → the SIP code.
    (16, 486, Outcome.BUSY),
    (16, 603, Outcome.REJECTED),
    (127, 404, Outcome.INVALID_NUMBER),
    (999, 480, Outcome.NO_ANSWER),
]


@pytest.mark.parametrize(("q850", "code", "outcome"), Q850_TABLE)
def test_q850_cause(q850: int, code: int | None, outcome: Outcome) -> None:
    assert outcome_for_sip(code, q850) == outcome


@pytest.mark.parametrize("code", [100, 180, 183, 200, 202])
def test_answered_or_provisional_is_not_a_failure(code: int) -> None:
    with pytest.raises(ValueError, match="dialog decides"):
        outcome_for_sip(code)


@pytest.mark.parametrize("code", [0, 99, 700, 999, -1])
def test_not_a_sip_code(code: int) -> None:
    with pytest.raises(ValueError, match="not a SIP status code"):
        outcome_for_sip(code)


# --- time zone: ERP field, else number, else tenant ---------------------------------------------

TZ_CASES = [
    # (erp_tz, phone, tenant, expected)
    ("Asia/Omsk", "+79123456789", "Europe/Moscow", "Asia/Omsk"),  # the ERP knows best
    ("  Asia/Omsk ", "+79123456789", "Europe/Moscow", "Asia/Omsk"),
    (None, "+79123456789", "Europe/Moscow", "Asia/Yekaterinburg"),  # Orenburg mobile
    ("", "+79123456789", "Europe/Moscow", "Asia/Yekaterinburg"),
    ("   ", "+79004400000", "Europe/Moscow", "Asia/Kamchatka"),
    (None, "+74012000000", "Europe/Moscow", "Europe/Kaliningrad"),  # landline
    (None, "+79841234567", "Asia/Vladivostok", "Asia/Vladivostok"),  # Far East district: ambiguous
    (None, "+79990000000", "Europe/Moscow", "Europe/Moscow"),  # "all of Russia"
    (None, "+77011234567", "Asia/Almaty", "Asia/Almaty"),  # Kazakh mobile: several zones
    (None, "+493012345678", "Europe/Moscow", "Europe/Berlin"),
]


@pytest.mark.parametrize(("erp_tz", "phone", "tenant", "expected"), TZ_CASES)
def test_resolve_timezone(erp_tz: str | None, phone: str, tenant: str, expected: str) -> None:
    assert resolve_timezone(erp_tz, phone, tenant) == expected


@pytest.mark.parametrize("bad", ["Moscow", "MSK", "UTC+3", "Asia/Yekaterinbur", "../etc/passwd"])
def test_resolve_timezone_rejects_a_bad_erp_zone(bad: str) -> None:
    with pytest.raises(InputError, match="not an IANA zone name") as e:
        resolve_timezone(bad, "+79123456789", "Europe/Moscow")
    assert repr(bad) in str(e.value)
