"""The console in a real browser (Debian's chromium + chromedriver, headless, through
selenium): log in, the dashboard, one notification with its recording in an <audio> player
whose URL serves audio/wav, and cancelling a notification by its button. Screenshots go to the
folder the test prints (CUCKOO_SCREENSHOTS, else the test's tmp folder)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web_helpers import PASSWORD, WebRig

from cuckoo.domain import Outcome

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (./dev setup)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def test_a_manager_in_a_browser(tmp_path: Path, sqlite_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.wait import WebDriverWait

    assert isinstance(browser, WebDriver)
    shots = Path(os.environ.get("CUCKOO_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {shots}")
    rig = WebRig(tmp_path, sqlite_url).start()
    try:
        heard = rig.notify(
            "acme", "DOC-7", customer={"first_name": "Пётр", "patronymic": "Николаевич"}
        )
        rig.finish_call(Outcome.CONFIRMED, dtmf="1", transcript="да, получил")
        waiting = rig.notify("acme", "DOC-8", phone="+79123456702")
        b = browser
        b.get(rig.url + "/")
        assert b.current_url.endswith("/login")
        b.find_element(By.NAME, "name").send_keys("anna")
        b.find_element(By.NAME, "password").send_keys(PASSWORD)
        b.save_screenshot(str(shots / "1-login.png"))
        b.find_element(By.CSS_SELECTOR, "form.login button").click()
        # a click that submits a form returns before the next page is there: wait for it
        WebDriverWait(b, 15).until(lambda d: not d.current_url.endswith("/login"))
        assert b.find_element(By.TAG_NAME, "h1").text == "Сводка"
        assert b.find_elements(By.CSS_SELECTOR, "svg.chart")
        b.save_screenshot(str(shots / "2-dashboard.png"))

        b.find_element(By.LINK_TEXT, "Уведомления").click()
        b.find_element(By.LINK_TEXT, str(heard)).click()
        assert "да, получил" in b.page_source
        audio = b.find_element(By.TAG_NAME, "audio")
        src = audio.get_attribute("src")
        assert src is not None and src.endswith(".wav")
        b.save_screenshot(str(shots / "3-notification.png"))
        session = {"cuckoo_session": b.get_cookie("cuckoo_session")["value"]}  # type: ignore[index]
        wav = httpx.get(src, cookies=session)
        assert wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF"
        assert httpx.get(src).status_code != 200  # not without the session

        b.get(f"{rig.url}/notifications/{waiting}")
        b.find_element(By.NAME, "reason").send_keys("клиент забрал сам")
        cancel = b.find_element(By.ID, "cancel")
        cancel.click()
        WebDriverWait(b, 15).until(staleness_of(cancel))  # the page after the POST
        assert "отменено" in b.find_element(By.CSS_SELECTOR, "dl.facts").text
        assert not b.find_elements(By.ID, "cancel")
        b.save_screenshot(str(shots / "4-cancelled.png"))
        row = rig.store.console.notification_for(waiting, None)
        assert row is not None and row.status == "cancelled"
    finally:
        rig.stop()
    assert sorted(p.name for p in shots.glob("*.png")) == [
        "1-login.png",
        "2-dashboard.png",
        "3-notification.png",
        "4-cancelled.png",
    ]
