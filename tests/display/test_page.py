"""The operator display in headless Chromium, against a real station: store and
broker, a pty as the scanner, the page fed by the station's event stream."""

from __future__ import annotations

import os
import statistics
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from gateway.display import DisplayConfig
from scangw.mqtt import BrokerConfig
from scangw.sales.registration import ScanMode
from tests.conftest import Pty
from tests.display.live import CuttableLink, live_display
from tests.harness import make_store, new_site, register_elsewhere, started, station_config

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
ORDERS = {"SO-1": [(1, "PHONE-X1", 20), (2, "DRILL-18V", 2)], "SO-2": [(1, "PHONE-X1", 5)]}


def _until(fn: Callable[[], T], what: str, timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while not (value := fn()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)
    return value


def _text(browser: webdriver.Chrome, element_id: str) -> str:
    return str(browser.execute_script(
        "return document.getElementById(arguments[0]).textContent", element_id))


def _open(browser: webdriver.Chrome, url: str) -> None:
    browser.get(url)
    _until(lambda: browser.execute_script("return window.__scangw.updates") > 0,
           "the first snapshot on the page")


def _classes(browser: webdriver.Chrome) -> list[str]:
    return str(browser.find_element(By.TAG_NAME, "body").get_attribute("class")).split()


def _scan(pty: Pty, text: str) -> None:
    pty.write(text.encode() + b"\r")


def _shows(browser: webdriver.Chrome, element_id: str, text: str) -> str:
    return _until(lambda: t if text in (t := _text(browser, element_id)) else "",
                  f"{text!r} in #{element_id} (it shows {_text(browser, element_id)!r})")


def _setup(tmp_path: Path, broker: BrokerConfig, pty: Pty, **extra: Any) -> tuple[Any, Any]:
    site = new_site()
    store = started(make_store(tmp_path, broker, site, ORDERS))
    return store, station_config(tmp_path, broker, site, pty.path, **extra)


def test_a_scan_shows_on_the_page_within_200_ms(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, browser: webdriver.Chrome
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)
    try:
        with live_display(config, DisplayConfig(port=0)) as live:
            _open(browser, live.url)
            assert _text(browser, "document") == "SO-1 · line 1 (1 of 2)"
            browser.execute_script("""
                window.__seen = {};
                const el = document.getElementById('verdict-data');
                new MutationObserver(() => {
                  const text = el.textContent;
                  if (!(text in window.__seen)) window.__seen[text] = Date.now();
                }).observe(el, {childList: true, characterData: true, subtree: true});""")
            latencies = []
            for i in range(12):
                serial = f"SN-LAT-{i:02d}"
                sent = time.time()
                _scan(pty_pair, serial)
                shown = _until(lambda s=serial: browser.execute_script(  # type: ignore[misc]
                    "return window.__seen[arguments[0]]", s), f"{serial} on the page")
                latencies.append(shown / 1000 - sent)
            assert _text(browser, "verdict-word") == "ADDED"
            # the count may lag one store update behind (see the report on order updates)
            _shows(browser, "count-registered", "12")
            assert _text(browser, "count-quantity") == "20"
    finally:
        store.stop()
    ms = sorted(round(x * 1000, 1) for x in latencies)
    print(f"scan to page: median {statistics.median(ms)} ms, max {ms[-1]} ms, all {ms}")
    assert ms[-1] < 200, f"scan-to-page latencies {ms} ms; the slowest is over 200 ms"


def test_a_refusal_shows_its_reason_in_words(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, browser: webdriver.Chrome
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)
    try:
        with live_display(config, DisplayConfig(port=0)) as live:
            _open(browser, live.url)
            _scan(pty_pair, "SN-DUP-1")
            _shows(browser, "verdict-word", "ADDED")
            _scan(pty_pair, "SN-OTHER")
            _shows(browser, "verdict-data", "SN-OTHER")
            _scan(pty_pair, "SN-DUP-1")
            _shows(browser, "verdict-word", "REFUSED")
            message = _text(browser, "verdict-message")
            assert message == "SN-DUP-1 is already registered on SO-1 line 1"
            assert _text(browser, "verdict-icon") == "✖"
            assert "verdict-bad" in _classes(browser)
            assert _text(browser, "count-registered") == "2"
            if os.environ.get("SCANGW_WRITE_SCREENSHOT"):
                _screenshot(browser, REPO / "docs" / "display-800x480.png")
    finally:
        store.stop()


def test_touching_remove_changes_the_mode_at_the_station(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, browser: webdriver.Chrome
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)
    try:
        with live_display(config, DisplayConfig(port=0)) as live:
            _open(browser, live.url)
            _scan(pty_pair, "SN-R1")
            _shows(browser, "count-registered", "1")
            assert live.call(lambda: live.service.station.mode) is ScanMode.ADD
            assert _text(browser, "mode-word") == "ADD"
            browser.find_element(By.CSS_SELECTOR, "button[data-command='MODE-REMOVE']").click()
            live.wait(lambda: live.service.station.mode is ScanMode.REMOVE,
                      "REMOVE mode at the station")
            _shows(browser, "mode-word", "REMOVE")
            _shows(browser, "verdict-data", "SGW-MODE-REMOVE")  # the barcode's own path
            assert "mode-remove" in _classes(browser)
            _scan(pty_pair, "SN-R1")  # in REMOVE mode the scan takes the serial off
            _shows(browser, "verdict-word", "REMOVED")
            _shows(browser, "count-registered", "0")
            browser.find_element(By.CSS_SELECTOR, "button[data-command='MODE-ADD']").click()
            live.wait(lambda: live.service.station.mode is ScanMode.ADD, "ADD mode again")
            _shows(browser, "mode-word", "ADD")
    finally:
        store.stop()


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>",
                                     "<img src=x onerror=window.__pwned=1;alert(2)>"])
def test_a_hostile_barcode_is_shown_as_text(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, browser: webdriver.Chrome,
    hostile: str,
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)
    try:
        with live_display(config, DisplayConfig(port=0)) as live:
            _open(browser, live.url)
            _scan(pty_pair, hostile)
            assert _shows(browser, "verdict-data", hostile) == hostile
            assert hostile in _text(browser, "verdict-message")  # the message names it too
            inside = browser.execute_script(
                "return document.querySelectorAll('#verdict script, #verdict img').length")
            assert inside == 0
            time.sleep(0.2)  # an onerror handler would have fired by now
            assert browser.execute_script("return window.__pwned") is None
            with pytest.raises(NoAlertPresentException):
                browser.switch_to.alert.dismiss()
    finally:
        store.stop()


def test_a_late_refusal_shows_a_banner_until_acknowledged(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, browser: webdriver.Chrome
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)
    register_elsewhere(store, "SO-2", "SN-TAKEN")  # another station sold it already
    try:
        with live_display(config, DisplayConfig(port=0)) as live:
            _open(browser, live.url)
            _scan(pty_pair, "SN-TAKEN")  # the station does not know SO-2: it says good
            _shows(browser, "verdict-word", "REFUSED BY STORE")
            title = _shows(browser, "alerts", "The order store refused SN-TAKEN on SO-1 line 1")
            assert "no longer registered" in title
            _shows(browser, "count-registered", "0")  # the line follows the store
            browser.find_element(By.CSS_SELECTOR, ".alert-store_refusal button.ack").click()
            _until(lambda: not browser.find_elements(By.CSS_SELECTOR, ".alert"),
                   "the banner to go after the touch")
            assert live.call(live.display.alerts.open) == []
    finally:
        store.stop()


def test_the_store_link_down_for_a_while_shows_a_banner(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, browser: webdriver.Chrome
) -> None:
    link = CuttableLink((broker_config.host, broker_config.port))
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site, ORDERS))
    config = station_config(tmp_path, broker_config.model_copy(update={"port": link.port}),
                            site, pty_pair.path)
    try:
        with live_display(config, DisplayConfig(port=0, uplink_alert_after_s=0.5)) as live:
            _open(browser, live.url)
            _shows(browser, "link-text", "store link OK")
            assert browser.find_elements(By.CSS_SELECTOR, ".alert") == []
            link.cut()
            _shows(browser, "link-text", "store link DOWN")
            _shows(browser, "alerts", "No link to the order store")
            _scan(pty_pair, "SN-OFFLINE")  # scanning goes on, saved at the station
            _shows(browser, "verdict-word", "ADDED")
            browser.find_element(By.CSS_SELECTOR, ".alert-uplink_down button.ack").click()
            _until(lambda: not browser.find_elements(By.CSS_SELECTOR, ".alert"),
                   "the banner to go after the touch")
    finally:
        store.stop()


def _screenshot(browser: webdriver.Chrome, path: Path) -> None:
    png = browser.get_screenshot_as_png()
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (800, 480), f"screenshot is {width}x{height}"
    path.write_bytes(png)


def test_the_page_fits_800x480(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, browser: webdriver.Chrome
) -> None:
    store, config = _setup(tmp_path, broker_config, pty_pair)
    try:
        with live_display(config, DisplayConfig(port=0)) as live:
            _open(browser, live.url)
            browser.find_element(By.CSS_SELECTOR, "button[data-command='MODE-REMOVE']").click()
            _shows(browser, "mode-word", "REMOVE")
            _scan(pty_pair, "SN-NOT-THERE")
            _shows(browser, "verdict-word", "REFUSED")
            size = browser.execute_script(
                "return [innerWidth, innerHeight, document.documentElement.scrollWidth,"
                " document.documentElement.scrollHeight]")
            assert size == [800, 480, 800, 480], f"viewport and content: {size}"
            hidden = browser.execute_script("""
                return Array.from(document.querySelectorAll('button')).filter(b => {
                  const r = b.getBoundingClientRect();
                  return r.bottom > innerHeight || r.right > innerWidth || r.height < 44;
                }).map(b => b.textContent);""")
            assert hidden == [], f"buttons cut off or too small to touch: {hidden}"
            _screenshot(browser, tmp_path / "remove.png")
            if os.environ.get("SCANGW_WRITE_SCREENSHOT"):
                _screenshot(browser, REPO / "docs" / "display-800x480-remove.png")
    finally:
        store.stop()
