"""The console's pages over a real server on loopback: logins (CSRF, the limiter, the session
cookie's flags), roles and tenants (another tenant's notification is 404), CSRF on every form,
an ERP's markup shown as text, hostile filter values, the do-not-call list, exports for Excel,
recordings served only from the recordings folder, the loopback rule."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from web_helpers import PASSWORD, WebRig, write_wav

from cuckoo.domain import Outcome
from cuckoo.errors import ConfigError
from cuckoo.web.server import check_listen


@pytest.fixture
def rig(tmp_path: Path, sqlite_url: str) -> Iterator[WebRig]:
    r = WebRig(tmp_path, sqlite_url).start()
    yield r
    r.stop()


def login_form(client: httpx.Client) -> str:
    client.get("/login")
    return client.cookies["cuckoo_login_csrf"]


def test_pages_need_a_login(rig: WebRig) -> None:
    for path in (
        "/",
        "/notifications",
        "/notifications/1",
        "/blocklist",
        "/scenarios",
        "/audit",
        "/export.csv",
        "/recordings/1.wav",
        "/live",
    ):
        r = httpx.get(rig.url + path)
        assert (r.status_code, r.headers.get("location")) == (303, "/login"), path


def test_login_cookie_flags_and_logout(rig: WebRig) -> None:
    with httpx.Client(base_url=rig.url) as c:
        csrf = login_form(c)
        r = c.post("/login", data={"name": "anna", "password": PASSWORD, "csrf": csrf})
        assert r.status_code == 303
        [cookie] = [h for h in r.headers.get_list("set-cookie") if "cuckoo_session=" in h]
        flags = {f.strip().lower() for f in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags  # plain HTTP on loopback; public sets it (next test)
        page = c.get("/")
        assert page.status_code == 200 and "anna" in page.text
        form_csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        assert c.post("/logout", data={"csrf": "wrong"}).status_code == 403
        assert c.post("/logout", data={"csrf": form_csrf}).status_code == 303
        assert c.get("/").status_code == 303  # the session is gone from the store too


def test_secure_cookie_when_asked(tmp_path: Path, sqlite_url: str) -> None:
    rig = WebRig(tmp_path, sqlite_url, web={"secure_cookies": True}).start()
    try:
        form = httpx.get(rig.url + "/login")
        assert "secure" in form.headers["set-cookie"].lower()
        csrf = form.cookies["cuckoo_login_csrf"]
        # a browser sends a Secure cookie back over HTTPS only: the test hands it over
        r = httpx.post(
            rig.url + "/login",
            cookies={"cuckoo_login_csrf": csrf},
            data={"name": "anna", "password": PASSWORD, "csrf": csrf},
        )
        [cookie] = [h for h in r.headers.get_list("set-cookie") if "cuckoo_session=" in h]
        assert "secure" in cookie.lower()
    finally:
        rig.stop()


def test_login_needs_its_csrf_and_is_rate_limited(rig: WebRig) -> None:
    with httpx.Client(base_url=rig.url) as c:
        csrf = login_form(c)
        no_token = c.post("/login", data={"name": "anna", "password": PASSWORD})
        assert no_token.status_code == 403
        for _ in range(5):
            r = c.post("/login", data={"name": "anna", "password": "guess", "csrf": csrf})
            assert r.status_code == 401 and "wrong user name or password" in r.text
        r = c.post("/login", data={"name": "anna", "password": PASSWORD, "csrf": csrf})
        assert r.status_code == 429  # the right password too, until the window has passed
        assert int(r.headers["retry-after"]) > 0
        other = c.post("/login", data={"name": "vera", "password": PASSWORD, "csrf": csrf})
        assert other.status_code == 429  # the same address


def test_tenants_and_roles(rig: WebRig) -> None:
    theirs = rig.notify("south", "S-1", phone="+79123456790")
    mine = rig.notify("acme", "A-1")
    anna, vera, admin = rig.login("anna"), rig.login("vera"), rig.login("admin")
    try:
        assert anna.get(f"/notifications/{theirs}").status_code == 404
        assert f'/notifications/{theirs}"' not in anna.get("/notifications").text
        assert f'/notifications/{mine}"' in anna.get("/notifications").text
        assert anna.get("/notifications?tenant=south").text.count("S-1") == 0  # ignored
        assert admin.get(f"/notifications/{theirs}").status_code == 200
        assert "S-1" in admin.get("/notifications?tenant=south").text
        csrf = csrf_of(anna, f"/notifications/{mine}")
        assert anna.post(f"/notifications/{theirs}/cancel", data={"csrf": csrf}).status_code == 404
        assert anna.get("/audit").status_code == 403
        page = vera.get(f"/notifications/{mine}").text
        assert 'id="cancel"' not in page  # a viewer has no cancel button ...
        r = vera.post(f"/notifications/{mine}/cancel", data={"csrf": csrf_of(vera, "/")})
        assert r.status_code == 403  # ... nor the right
    finally:
        for c in (anna, vera, admin):
            c.close()


def csrf_of(client: httpx.Client, path: str) -> str:
    return client.get(path).text.split('name="csrf" value="')[1].split('"')[0]


def test_cancel_needs_the_forms_csrf_token_and_is_audited(rig: WebRig) -> None:
    nid = rig.notify("acme", "C-1")
    with closing(rig.login("anna")) as anna:
        assert anna.post(f"/notifications/{nid}/cancel", data={}).status_code == 403
        assert anna.post(f"/notifications/{nid}/cancel", data={"csrf": "x" * 32}).status_code == 403
        assert rig.store.console.notification_for(nid, None).status == "pending"  # type: ignore[union-attr]
        token = csrf_of(anna, f"/notifications/{nid}")
        r = anna.post(f"/notifications/{nid}/cancel", data={"csrf": token, "reason": "ушёл"})
        assert r.status_code == 303
    row = rig.store.console.notification_for(nid, None)
    assert row is not None and row.status == "cancelled"
    [entry] = [a for a in rig.store.console.audit_log() if a.action == "cancel"]
    assert (entry.actor, entry.detail) == ("anna", "ушёл")
    with closing(rig.login("admin")) as admin:
        assert "ушёл" in admin.get("/audit").text


def test_an_erps_markup_is_shown_as_text(rig: WebRig) -> None:
    evil = "<script>alert(1)</script>"
    nid = rig.notify("acme", evil, customer={"first_name": evil, "patronymic": "<b>x</b>"})
    rig.finish_call(Outcome.CONFIRMED, transcript=evil)
    with closing(rig.login("anna")) as anna:
        for path in (f"/notifications/{nid}", "/notifications"):
            page = anna.get(path).text
            assert evil not in page and "<b>x</b>" not in page
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "script-src 'self'" in anna.get("/").headers["content-security-policy"]


@pytest.mark.parametrize(
    "params",
    [
        {"erp_id": "' OR 1=1 --"},
        {"q": "'; DROP TABLE notifications; --"},
        {"scenario": "x' UNION SELECT * FROM web_users --"},
        {"phone": "%' OR '1'='1"},
        {"status": "pending' OR 'a'='a"},
        {"from": "2026-13-45"},
    ],
)
def test_hostile_filter_values_are_harmless(rig: WebRig, params: dict[str, str]) -> None:
    rig.notify("acme", "A-1")
    with closing(rig.login("anna")) as anna:
        r = anna.get("/notifications", params=params)
        if "from" in params:
            assert r.status_code == 422
        else:
            assert r.status_code == 200
            found = "A-1" in r.text
            assert found == (
                "status" in params
            )  # a bad status is no filter; the rest match nothing
        assert "A-1" in anna.get("/notifications").text  # the table is still there


def test_search_box_and_paging(rig: WebRig) -> None:
    ids = [rig.notify("acme", f"P-{i:02d}", phone=f"+791234567{i:02d}") for i in range(55)]
    with closing(rig.login("anna")) as anna:
        first = anna.get("/notifications").text
        assert f'/notifications/{ids[-1]}"' in first and f'/notifications/{ids[0]}"' not in first
        nxt = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
        second = anna.get(nxt).text
        assert f'/notifications/{ids[0]}"' in second and 'rel="next"' not in second
        assert "P-07" in anna.get("/notifications", params={"q": "P-07"}).text
        by_phone = anna.get("/notifications", params={"q": "8 912 345-67-08"}).text
        assert "P-08" in by_phone and "P-07" not in by_phone
        jump = anna.get("/notifications", params={"q": f"#{ids[3]}"})
        assert jump.headers["location"] == f"/notifications/{ids[3]}"


def test_do_not_call_list(rig: WebRig, tmp_path: Path) -> None:
    with closing(rig.login("anna")) as anna:
        csrf = csrf_of(anna, "/blocklist")
        anna.post(
            "/blocklist/add", data={"csrf": csrf, "phone": "8 (912) 000-00-01", "reason": "просил"}
        )
        assert "+79120000001" in anna.get("/blocklist").text
        bad = anna.post("/blocklist/add", data={"csrf": csrf, "phone": "12"})
        assert "digits" in anna.get(bad.headers["location"]).text
        upload = "\ufeffphone;reason\n89120000002;жалоба\nnot a number;x\n".encode()
        r = anna.post(
            "/blocklist/import",
            data={"csrf": csrf},
            files={"file": ("list.csv", upload, "text/csv")},
        )
        said = anna.get(r.headers["location"]).text
        assert "2 numbers" not in said and "1 numbers, 1 new, 1 lines skipped" in said
        assert "list.csv:3" in said
        exported = anna.get("/blocklist.csv")
        assert exported.content.startswith("\ufeff".encode())
        listed = {line.split(";")[0] for line in exported.text.splitlines()}
        assert {"+79120000001", "+79120000002"} <= listed
        anna.post("/blocklist/remove", data={"csrf": csrf, "phone": "+79120000001"})
        assert "+79120000001" not in anna.get("/blocklist").text
    actions = [a.action for a in rig.store.console.audit_log()]
    assert {"block", "block import", "unblock"} <= set(actions)
    with closing(rig.login("vera")) as vera:  # a viewer reads the list, changes nothing
        r = vera.post("/blocklist/add", data={"csrf": csrf_of(vera, "/"), "phone": "89120000009"})
        assert r.status_code == 403


def test_export_for_excel(rig: WebRig) -> None:
    rig.notify("acme", "E-1")
    rig.finish_call(Outcome.CONFIRMED)
    rig.notify("acme", "E-2", phone="+79123456702")
    with closing(rig.login("anna")) as anna:
        r = anna.get("/export.csv")
        assert r.headers["content-disposition"].startswith("attachment")
        assert r.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][:3] == ["Номер в ERP", "№", "Источник"] and "Статус" in rows[0]
        by_id = {row[0]: row for row in rows[1:]}
        assert set(by_id) == {"E-1", "E-2"}
        assert "подтверждено" in by_id["E-1"] and "в работе" in by_id["E-2"]
        assert any(cell.endswith("+05") for cell in by_id["E-1"])  # the customer's local time
        only = anna.get("/export.csv", params={"status": "confirmed"}).content.decode("utf-8-sig")
        assert "E-1" in only and "E-2" not in only
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(anna.get("/export.xlsx").content))
        values = [[c.value for c in row] for row in book.active.iter_rows()]
        assert values[0][0] == "Номер в ERP" and {v[0] for v in values[1:]} == {"E-1", "E-2"}


def test_recordings_come_only_from_the_recordings_folder(rig: WebRig, tmp_path: Path) -> None:
    nid = rig.notify("acme", "R-1")
    rig.finish_call(Outcome.CONFIRMED)
    [att] = rig.store.attempts_of(nid)
    with closing(rig.login("anna")) as anna:
        page = anna.get(f"/notifications/{nid}").text
        assert f'<audio controls preload="none" src="/recordings/{att.id}.wav">' in page
        assert "message → received → thanks" in page  # the dialog's path
        r = anna.get(f"/recordings/{att.id}.wav")
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
        assert r.content[:4] == b"RIFF"
    with closing(rig.login("sasha")) as sasha:  # another tenant's recording
        assert sasha.get(f"/recordings/{att.id}.wav").status_code == 404
    outside = tmp_path / "elsewhere.wav"
    write_wav(outside)
    with rig.store._db.tx() as s:  # a path that is not cuckoo's: never served
        from cuckoo.store.models import AttemptRow

        row = s.get(AttemptRow, att.id)
        assert row is not None
        row.recording_path = str(rig.recordings / ".." / "elsewhere.wav")
    with closing(rig.login("anna")) as anna:
        assert anna.get(f"/recordings/{att.id}.wav").status_code == 404


def test_dashboard_and_scenarios(rig: WebRig) -> None:
    rig.notify("acme", "D-1")
    rig.finish_call(Outcome.CONFIRMED)
    with closing(rig.login("anna")) as anna:
        page = anna.get("/").text
        assert "<svg" in page and "Подтвердили" in page
        assert anna.get("/live").json() == {"in_progress": []}
        sc = anna.get("/scenarios/documents_sent").text
        assert "Пётр Николаевич" in sc and "частей SMS" in sc
        assert anna.get("/scenarios/nope").status_code == 404


def test_listen_speaks_the_state_at_8_khz(rig: WebRig) -> None:
    import wave

    with closing(rig.login("anna")) as anna:
        r = anna.get("/scenarios/documents_sent/listen/message.wav")
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
        with wave.open(io.BytesIO(r.content)) as w:
            assert w.getframerate() == 8000
            assert w.getnframes() / 8000 > 2.0  # a whole sentence, not a click
        assert anna.get("/scenarios/documents_sent/listen/nope.wav").status_code == 404


def test_listening_elsewhere_than_loopback_needs_public() -> None:
    assert check_listen("127.0.0.1:8080", public=False) == ("127.0.0.1", 8080)
    assert check_listen("[::1]:8080", public=False) == ("::1", 8080)
    with pytest.raises(ConfigError, match="public = true"):
        check_listen("0.0.0.0:8080", public=False)
    assert check_listen("0.0.0.0:8080", public=True) == ("0.0.0.0", 8080)
    with pytest.raises(ConfigError, match="HOST:PORT"):
        check_listen("8080", public=False)


def test_the_console_in_english(tmp_path: Path, sqlite_url: str) -> None:
    rig = WebRig(tmp_path, sqlite_url, web={"language": "en"}).start()
    try:
        nid = rig.notify("acme", "E-1")
        rig.finish_call(Outcome.NO_ANSWER, record=False)
        with closing(rig.login("anna")) as anna:
            page = anna.get(f"/notifications/{nid}").text
            assert "Attempts" in page and "no answer" in page and "Попытки" not in page
            assert '<html lang="en">' in page
            header = anna.get("/export.csv").content.decode("utf-8-sig").splitlines()[0]
            assert header.startswith("ERP id;№;Source;Tenant")
    finally:
        rig.stop()
