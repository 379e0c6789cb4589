"""The sample shop ERP with the sql adapter's default query fills the shipped scenarios'
variables: `type = "sql"` + `url` is enough to try cuckoo on it."""

from __future__ import annotations

from pathlib import Path

from adapters import build_adapter
from adapters.samples.erp import create_sample_erp
from cuckoo.config.adapters import AdapterSettings
from cuckoo.dialog.catalog import ScenarioCatalog

REPO = Path(__file__).resolve().parents[2]


def test_every_flagged_sample_document_fits_its_scenario(db_url: str) -> None:
    create_sample_erp(db_url)
    adapter = build_adapter("shop", AdapterSettings(type="sql", url=db_url), REPO)
    catalog = ScenarioCatalog(REPO / "scenarios")
    pending = adapter.fetch_pending()
    assert len(pending) == 7
    assert {n.scenario for n in pending} == {"documents_sent", "order_ready"}
    for n in pending:
        assert catalog.problems_with(n.scenario, n.variables) == [], n.external_id
    by_id = {n.external_id: n for n in pending}
    # Nested from "__" aliases, merged with the JSON the manager filled in.
    assert by_id["2"].variables["customer"] == {
        "first_name": "Сергей",
        "patronymic": "Иванович",
        "last_name": "Петров",
    }
    assert by_id["1"].variables["pickup"]["address"] == "улица Ленина, дом 5"
    assert by_id["2"].variables["period"] == "октябрь"
