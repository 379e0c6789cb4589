"""The HTTP API over a real server on loopback and a real store (SQLite and PostgreSQL):
tokens, idempotent intake, 422 naming the field, tenants apart (404), cursor paging, cancel,
attempts since a point, the OpenAPI document, /healthz and /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import WebRig

from cuckoo.domain import Outcome


@pytest.fixture
def rig(tmp_path: Path, db_url: str) -> Iterator[WebRig]:
    r = WebRig(tmp_path, db_url).start()
    yield r
    r.stop()


def test_no_token_or_a_bad_one_is_401(rig: WebRig) -> None:
    with rig.api(None) as c:
        r = c.get("/notifications")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert (
            c.get("/notifications", headers={"Authorization": "Bearer ck_nope"}).status_code == 401
        )
    [token] = [t for t in rig.store.console.tokens() if t.tenant == "acme"]
    rig.store.console.revoke_token(token.id, token.created_at)
    with rig.api("acme") as c:
        assert c.get("/notifications").status_code == 401  # revoked


def test_intake_is_idempotent_and_names_the_bad_field(rig: WebRig) -> None:
    first = rig.notify("acme", "D-1")
    with rig.api("acme") as c:
        body = {
            "external_id": "D-1",
            "phone": "+79123456701",
            "scenario": "documents_sent",
            "variables": {},
        }
        again = c.post("/notifications", json=body)
        assert again.status_code == 200
        assert again.json() == {"id": first, "status": "pending", "created": False}

        def refused(**changes: object) -> tuple[list[str], str]:
            sent = {
                "external_id": "D-2",
                "phone": "+79123456702",
                "scenario": "documents_sent",
                "variables": {"customer": {"first_name": "Пётр"}},
                **changes,
            }
            sent = {k: v for k, v in sent.items() if v is not None}
            r = c.post("/notifications", json=sent)
            assert r.status_code == 422, r.text
            [err] = r.json()["detail"][:1]
            return err["loc"], err["msg"]

        assert refused(phone="12")[0] == ["body", "phone"]
        loc, msg = refused(scenario="no_such")
        assert loc == ["body", "scenario"] and "documents_sent" in msg  # the known ones
        assert refused(variables={})[0] == ["body", "variables"]
        assert refused(phone=None)[0] == ["body", "phone"]
        assert refused(channel="fax")[0] == ["body", "channel"]
        loc, msg = refused(deadline="2026-12-31T10:00:00")
        assert loc == ["body", "deadline"] and "offset" in msg
        assert c.get("/notifications").json()["items"][0]["external_id"] == "D-1"  # D-2 not kept


def test_a_tenant_never_sees_another_tenants_notification(rig: WebRig) -> None:
    theirs = rig.notify("south", "S-1")
    mine = rig.notify("acme", "A-1")
    with rig.api("acme") as c:
        assert c.get(f"/notifications/{theirs}").status_code == 404
        assert c.post(f"/notifications/{theirs}/cancel").status_code == 404
        assert c.get(f"/notifications/{mine}").json()["tenant"] == "acme"
        assert [n["id"] for n in c.get("/notifications").json()["items"]] == [mine]
    with rig.api("south") as c:
        assert c.get(f"/notifications/{theirs}").json()["status"] == "pending"  # not cancelled


def test_the_list_pages_with_a_cursor(rig: WebRig) -> None:
    ids = [rig.notify("acme", f"P-{i}", phone=f"+7912345670{i}") for i in range(5)]
    seen: list[int] = []
    cursor = None
    with rig.api("acme") as c:
        for _ in range(4):
            params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = c.get("/notifications", params=params).json()
            seen += [n["id"] for n in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(ids, reverse=True)
        assert c.get("/notifications", params={"status": "confirmed"}).json()["items"] == []
        assert c.get("/notifications", params={"status": "nonsense"}).status_code == 422
        assert c.get("/notifications", params={"cursor": "x"}).status_code == 422


def test_cancel_and_the_audit_log(rig: WebRig) -> None:
    nid = rig.notify("acme", "C-1")
    with rig.api("acme") as c:
        r = c.post(f"/notifications/{nid}/cancel")
        assert r.json() == {"id": nid, "result": "cancelled", "status": "cancelled"}
        assert c.post(f"/notifications/{nid}/cancel").json()["result"] == "already_final"
    [entry] = [a for a in rig.store.console.audit_log() if a.action == "cancel"]
    assert entry.actor == "api:acme erp" and entry.target == f"notification {nid}"


def test_attempts_since(rig: WebRig) -> None:
    nid = rig.notify("acme", "T-1")
    rig.notify("south", "T-2", phone="+79123456799")
    assert rig.finish_call(Outcome.CONFIRMED, dtmf="1") == nid  # acme's comes first
    rig.finish_call(Outcome.NO_ANSWER, record=False)  # south's: not acme's to see
    with rig.api("acme") as c:
        items = c.get("/attempts").json()["items"]
        assert [(a["notification_id"], a["outcome"], a["dtmf"]) for a in items] == [
            (nid, "confirmed", "1")
        ]
        later = c.get("/attempts", params={"since": "2099-01-01T00:00:00+00:00"}).json()
        assert later["items"] == []
        one = c.get(f"/notifications/{nid}").json()
        assert one["status"] == "confirmed" and one["attempts_list"][0]["sip_code"] == 200


def test_openapi_health_and_metrics(rig: WebRig) -> None:
    import httpx

    doc = httpx.get(rig.url + "/api/v1/openapi.json").json()
    one = "/notifications/{notification_id}"
    assert {"/notifications", one, one + "/cancel", "/attempts"} <= set(doc["paths"])
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert httpx.get(rig.url + "/healthz").json() == {"ok": True}
    rig.notify("acme", "M-1")
    text = httpx.get(rig.url + "/metrics").text
    assert 'cuckoo_notifications{status="pending"} 1' in text
    assert 'cuckoo_attempts_in_progress{channel="call"} 0' in text
    assert "cuckoo_queue_due" in text and "cuckoo_outbox_pending 0" in text


def test_a_tenant_without_an_api_adapter_is_told_so(tmp_path: Path, sqlite_url: str) -> None:
    rig = WebRig(tmp_path, sqlite_url).start()
    try:
        rig.tokens["north"] = rig.store.console.create_token(
            "north", "n", rig.store.console.tokens()[0].created_at
        )[1]
        with rig.api("north") as c:
            r = c.post(
                "/notifications",
                json={"external_id": "1", "phone": "+79123456701", "scenario": "documents_sent"},
            )
        assert r.status_code == 409 and 'type = "api"' in r.json()["detail"]
    finally:
        rig.stop()


def test_a_batch_in_one_request(rig: WebRig) -> None:
    from web_helpers import sample_variables

    good = {"scenario": "documents_sent", "variables": sample_variables("documents_sent")}
    rig.store.block("+79120000005", "просил не звонить", rig.store.console.tokens()[0].created_at)
    before = rig.notify("acme", "B-0")
    items = [
        {"external_id": "B-0", "phone": "+79123456701", **good},  # stored before
        {"external_id": "B-1", "phone": "+79120000001", **good},
        {"external_id": "B-2", "phone": "12", **good},  # refused: the phone
        {"external_id": "B-3", "phone": "+79120000003", "scenario": "nope", "variables": {}},
        {"external_id": "B-4", "phone": "+79120000004", **good},
        {"external_id": "B-5", "phone": "+79120000005", **good},  # on the do-not-call list
        {"external_id": "B-1", "phone": "+79120000001", **good},  # twice in the batch
    ]
    with rig.api("acme") as c:
        r = c.post("/notifications/batch", json={"notifications": items})
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [x["external_id"] for x in results] == [i["external_id"] for i in items]
        assert results[0] == {
            "external_id": "B-0",
            "id": before,
            "status": "pending",
            "created": False,
        }
        assert results[1]["status"] == "pending" and results[1]["created"] is True
        assert results[2]["error"]["field"] == "phone"
        assert results[3]["error"]["field"] == "scenario"
        assert results[4]["status"] == "pending"
        assert results[5]["status"] == "blocked"  # kept, as an ERP's row would be
        assert results[6]["id"] == results[1]["id"]
        listed = {n["external_id"] for n in c.get("/notifications").json()["items"]}
        assert listed == {"B-0", "B-1", "B-4", "B-5"}
        assert c.post("/notifications/batch", json={"notifications": []}).status_code == 422
        again = c.post("/notifications/batch", json={"notifications": items[:2]}).json()
        assert [x["created"] for x in again["results"]] == [False, False]


def test_metrics_of_a_worker(rig: WebRig) -> None:
    """Inside `cuckoo run` the console adds the worker's own counters."""
    from cuckoo.web.context import WebContext
    from cuckoo.web.ops import metrics_text

    ctx = WebContext(
        rig.store, rig.config, erp_poll_errors=lambda: {"shop": 3}, tts_counts=lambda: (40, 2)
    )
    text = metrics_text(ctx)
    assert 'cuckoo_erp_poll_errors_total{adapter="shop"} 3' in text
    assert 'cuckoo_tts_phrases_total{source="cache"} 40' in text
    assert 'cuckoo_tts_phrases_total{source="synthesized"} 2' in text
