"""customer_key(): who the customer of a notification is, for remembering wrong numbers."""

from __future__ import annotations

from typing import Any

import pytest

from cuckoo.intake.customers import KEY_LENGTH, customer_key


@pytest.mark.parametrize(
    ("variables", "key"),
    [
        ({"customer_id": 42, "customer": {"first_name": "Иван"}}, "id:42"),
        ({"customer_id": " C-0042 "}, "id:C-0042"),
        # the shipped scenarios' names, in any order and spelling
        ({"customer": {"first_name": "Пётр", "patronymic": "Николаевич"}}, "name:николаевич петр"),
        ({"customer": {"last_name": "Петров", "first_name": "Иван"}}, "name:иван петров"),
        ({"customer": "ПЕТРОВ,  Иван"}, "name:иван петров"),
        ({"customer": "Иван Петров"}, "name:иван петров"),
        # the sample ERP sends the name at the top level as well; the mapping comes first
        ({"last_name": "Ким", "first_name": "Алексей"}, "name:алексей ким"),
        (
            {"customer": {"first_name": "Анна"}, "last_name": "Ким", "first_name": "Алексей"},
            "name:анна",
        ),
        # a company: first_name falls back to the last name in the sample ERP; each word once
        (
            {"customer": {"first_name": "ООО «Ромашка»", "last_name": "ООО «Ромашка»"}},
            "name:ооо ромашка",
        ),
        # neither an id nor a name: the nameless customer
        ({}, ""),
        ({"customer_id": "", "customer": {"first_name": ""}}, ""),
        ({"customer_id": True, "order": "A-1"}, ""),  # a flag is no id
        ({"customer": {"first_name": None}, "first_name": "Мария"}, "name:мария"),
    ],
)
def test_customer_key(variables: dict[str, Any], key: str) -> None:
    assert customer_key(variables) == key


def test_a_long_name_is_cut_to_the_column() -> None:
    key = customer_key({"customer": "Ы" * 500})
    assert len(key) == KEY_LENGTH and key.startswith("name:ыыы")
