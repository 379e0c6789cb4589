"""cuckoo.intake.values and its place in admission: variables made safe to say, a text nobody
could listen to refused with the variable named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuckoo.config.policy import PolicySettings
from cuckoo.domain import ChannelKind, IncomingNotification, Outcome, Status
from cuckoo.errors import InputError
from cuckoo.intake.admission import AdmissionContext, Admitted, Rejected, admit
from cuckoo.intake.values import clean_text, clean_variables
from cuckoo.policy.retry import AttemptHistory, RetryPolicy, decide
from cuckoo.policy.windows import CallingWindow
from cuckoo.result_texts import reason_text

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ку\x00\x1b[31mзнецова", "Ку[31mзнецова"),  # NUL and ESC go; printable text stays
        ("Петров\u202eа", "Петрова"),  # a bidi override
        ("Иван\u200bов\ufeff", "Иванов"),  # zero-width space, BOM
        ("ул. Ленина,\nд. 5\tкв. 7", "ул. Ленина, д. 5 кв. 7"),  # line breaks and tabs: spaces
        ("Смирнова 🙂 «Ромашка» №5", "Смирнова 🙂 «Ромашка» №5"),  # nothing invisible here
        ("\x85\u2028", "  "),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@given(st.text())
def test_nothing_invisible_survives(text: str) -> None:
    import unicodedata

    out = clean_text(text)
    assert all(unicodedata.category(ch)[0] != "C" for ch in out)
    assert len(out) <= len(text)


def test_a_text_too_long_is_refused_naming_the_variable() -> None:
    variables = {"customer": {"last_name": "Щ" * 10_000}, "items": ["a", "b" * 300]}
    with pytest.raises(InputError, match=r"variable 'customer.last_name' is 10000 characters"):
        clean_variables(variables)
    with pytest.raises(InputError, match=r"variable 'items\[1\]' is 300 characters"):
        clean_variables({"items": ["a", "b" * 300]})
    assert clean_variables({"n": 5, "ok": True, "s": "x" * 200}) == {
        "n": 5,
        "ok": True,
        "s": "x" * 200,
    }
    assert clean_variables({"s": "x" * 201}, max_chars=500) == {"s": "x" * 201}


def item(**variables: Any) -> IncomingNotification:
    return IncomingNotification("erp", "1", "+79123456789", "order_ready", variables=variables)


def test_admission_cleans_and_refuses() -> None:
    ctx = AdmissionContext(PolicySettings())
    admitted = admit(item(customer={"last_name": "Ива\x00нова\u200b"}), ctx, NOW)
    assert isinstance(admitted, Admitted)
    assert admitted.variables == {"customer": {"last_name": "Иванова"}}
    refused = admit(item(customer={"last_name": "Щ" * 10_000}), ctx, NOW)
    assert isinstance(refused, Rejected)
    assert (refused.status, refused.field) == (Status.INVALID, "variables")
    assert reason_text(refused.reason) == (
        "переменная 'customer.last_name': 10000 символов (предел 200: [policy] max_variable_chars)"
    )
    # The limit comes from [policy] max_variable_chars.
    roomy = AdmissionContext(PolicySettings(), max_variable_chars=20_000)
    assert isinstance(admit(item(customer={"last_name": "Щ" * 10_000}), roomy, NOW), Admitted)


def test_failed_is_final_and_no_contact() -> None:
    history = AttemptHistory(
        attempts=1,
        contacts=0,
        network_failures=0,
        rejections=0,
        channel=ChannelKind.CALL_THEN_SMS,
        current_channel=ChannelKind.CALL,
        deadline=None,
    )
    window = CallingWindow()
    d = decide(history, Outcome.FAILED, None, NOW, "Europe/Moscow", RetryPolicy(), window, window)
    assert (d.status, d.next_attempt_at, d.counts_as_contact) == (Status.FAILED, None, False)
    assert d.next_channel == ChannelKind.CALL  # no SMS fallback: the text itself fails
    assert reason_text("failed: not dialled: scenario 'x': no state 'nowhere'").startswith(
        "не звонили: "
    )
    assert reason_text("failed: after the answer: TtsError: boom") == (
        "сбой после ответа, клиенту принесли извинения: TtsError: boom"
    )


def test_consent_required_per_tenant() -> None:
    """41-ФЗ: a tenant with require_consent refuses a row without the ERP's consent record."""
    settings = PolicySettings.model_validate(
        {"tenants": {"shop": {"require_consent": True}, "other": {}}}
    )
    assert settings.consent_tenants() == frozenset({"shop"})
    ctx = AdmissionContext(settings, consent_tenants=settings.consent_tenants())

    def row(tenant: str, consent: str) -> IncomingNotification:
        return IncomingNotification(
            "erp", "1", "+79123456789", "order_ready", tenant=tenant, consent=consent
        )

    refused = admit(row("shop", "  "), ctx, NOW)
    assert isinstance(refused, Rejected)
    assert (refused.status, refused.field) == (Status.INVALID, "consent")
    assert reason_text(refused.reason) == (
        "нет записи о согласии клиента на звонки (обязательна для 'shop': "
        "[policy.tenants.shop] require_consent)"
    )
    assert isinstance(admit(row("shop", "договор 12/2025, п. 7"), ctx, NOW), Admitted)
    assert isinstance(admit(row("other", ""), ctx, NOW), Admitted)
