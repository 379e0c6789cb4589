"""`cuckoo status` says why results wait when no adapter can take them."""

from __future__ import annotations

from pathlib import Path

from cuckoo.cli.store_cmds import _unrouted
from cuckoo.config import parse

SHOP = """
[adapters.shop]
type = "csv"
folder = "inbox"
"""


def test_results_of_sources_without_an_adapter_are_named(tmp_path: Path) -> None:
    config = parse(SHOP, base_dir=tmp_path)
    assert _unrouted({"shop": 4}, config) == ""  # an adapter will take them
    assert _unrouted({"shop": 4, "crm": 2, "manual": 1}, config) == (
        " (2 of 'crm', which has no [adapters.crm] here; "
        "1 of `notify add`, which has no ERP: see `cuckoo report`)"
    )
    assert _unrouted({}, config) == ""
