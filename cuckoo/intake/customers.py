"""Who the customer of a notification is, as far as cuckoo can tell from its variables. Pure.

A wrong number («вы не туда попали») is remembered per (tenant, phone, customer), not per
phone: the number may be right for another customer of the same ERP, or belong to somebody new
by now. `customer_key(variables)` is that customer:

1. `customer_id` when the ERP sends one (a string or an integer, not empty): "id:42";
2. else the customer's name: the `customer` mapping's `last_name`, `first_name` and
   `patronymic` (the shipped scenarios' names), or `customer` itself when it is a plain string,
   or else the top-level `last_name`, `first_name`, `patronymic`; the words of the name in lower
   case, «ё» read as «е», punctuation dropped, each word once, sorted (so «Петров Иван» and
   «Иван Петров» are one customer): "name:иван петров";
3. else "" — a customer with neither: the nameless customer of that number.

A key longer than KEY_LENGTH characters is cut there (the column's size).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["KEY_LENGTH", "customer_key"]

KEY_LENGTH = 200
NAME_FIELDS = ("last_name", "first_name", "patronymic")
_WORD = re.compile(r"\w+")


def customer_key(variables: Mapping[str, Any]) -> str:
    """The customer of a notification with these variables (see the module's rule)."""
    cid = variables.get("customer_id")
    if isinstance(cid, str) and cid.strip():
        return f"id:{cid.strip()}"[:KEY_LENGTH]
    if isinstance(cid, int) and not isinstance(cid, bool):
        return f"id:{cid}"[:KEY_LENGTH]
    words = _name_words(variables)
    return f"name:{' '.join(sorted(set(words)))}"[:KEY_LENGTH] if words else ""


def _name_words(variables: Mapping[str, Any]) -> list[str]:
    customer = variables.get("customer")
    if isinstance(customer, str):
        parts = [customer]
    elif isinstance(customer, Mapping) and any(_text(customer.get(f)) for f in NAME_FIELDS):
        parts = [_text(customer.get(f)) for f in NAME_FIELDS]
    else:
        parts = [_text(variables.get(f)) for f in NAME_FIELDS]
    text = " ".join(parts).casefold().replace("ё", "е")
    return [w for w in _WORD.findall(text) if w.strip("_")]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
