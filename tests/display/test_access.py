"""Who may see the display and press its buttons: a real server, real HTTP."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium import webdriver

from gateway.config import StationConfig
from gateway.display import DisplayConfig
from gateway.display.server import DisplayServer
from gateway.service import StationService
from scangw.mqtt import BrokerConfig, SecretMissing
from scangw.sales.registration import ScanMode
from tests.conftest import Pty
from tests.display.live import LiveDisplay, live_display
from tests.harness import make_store, new_site, running_station, started, station_config


def _until(fn: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 5
    while not fn():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


VAR = "SCANGW_TEST_DISPLAY_TOKEN"
TOKEN = "s3cret-Display-Token-0123456789"  # noqa: S105 - a test token


def _request(live: LiveDisplay, method: str, path: str, headers: dict[str, str] | None = None,
             body: object = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", live.display.port, timeout=5)
    try:
        data = None if body is None else json.dumps(body).encode()
        sent = dict(headers or {})
        if data is not None:
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_with_a_token_every_request_without_it_gets_401(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty, browser: webdriver.Chrome
) -> None:
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site))
    config = station_config(tmp_path, broker_config, site, pty_pair.path)
    (tmp_path / "token").write_text(TOKEN + "\n")
    display = DisplayConfig(port=0, token_file=tmp_path / "token")
    try:
        with live_display(config, display) as live:
            for path in ("/", "/events", "/static/display.js", "/?token=wrong"):
                status, headers, body = _request(live, "GET", path)
                assert status == 401, path
                assert b"needs its token" in body or b"token in the address is wrong" in body
            status, _, _ = _request(live, "POST", "/api/command",
                                    body={"command": "MODE-REMOVE"})
            assert status == 401
            assert live.call(lambda: live.service.station.mode) is ScanMode.ADD
            assert _request(live, "GET", "/healthz")[:1] == (200,)

            bearer = {"Authorization": f"Bearer {TOKEN}"}
            status, _, body = _request(live, "GET", "/", bearer)
            assert status == 200
            assert b"display.js" in body
            status, headers, _ = _request(live, "GET", f"/?scanner=gun&token={TOKEN}")
            assert status == 303
            assert headers["Location"] == "/?scanner=gun"  # the token leaves the address bar
            cookie = headers["Set-Cookie"]
            assert "HttpOnly" in cookie
            assert "SameSite=Strict" in cookie
            jar = {"Cookie": cookie.split(";")[0]}
            assert _request(live, "GET", "/", jar)[0] == 200
            status, _, body = _request(live, "POST", "/api/command", jar,
                                       {"command": "MODE-REMOVE"})
            assert (status, json.loads(body)["ok"]) == (200, True)
            assert live.call(lambda: live.service.station.mode) is ScanMode.REMOVE

            # the browser: token once in the address, then the cookie
            browser.get(live.url + f"?token={TOKEN}")
            assert browser.current_url == live.url
            browser.refresh()
            _until(lambda: browser.execute_script(
                "return document.getElementById('mode-word').textContent") == "REMOVE",
                "the page, with the cookie, to show the station's REMOVE mode")
            browser.delete_all_cookies()
    finally:
        store.stop()


def test_buttons_take_only_the_touch_commands_and_only_json_from_this_page(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site))
    config = station_config(tmp_path, broker_config, site, pty_pair.path)
    try:
        with live_display(config, DisplayConfig(port=0)) as live:
            status, _, body = _request(live, "POST", "/api/command", body={"command": "CANCEL"})
            assert (status, json.loads(body)["error"]) == (400, "CANCEL has no button here")
            status, _, body = _request(live, "POST", "/api/command", body={"command": "NOPE"})
            assert status == 400
            assert "MODE-REMOVE" in json.loads(body)["error"]
            status, _, _ = _request(live, "POST", "/api/command",
                                    {"Origin": "http://evil.example"}, {"command": "POST"})
            assert status == 403
            conn = http.client.HTTPConnection("127.0.0.1", live.display.port, timeout=5)
            conn.request("POST", "/api/command", body=b"command=MODE-REMOVE",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert conn.getresponse().status == 415  # a cross-site form cannot press it
            conn.close()
            assert _request(live, "GET", "/?scanner=nobody")[0] == 404
            assert _request(live, "POST", "/api/alerts/a99/ack", body={})[0] == 404
            assert live.call(lambda: live.service.station.mode) is ScanMode.ADD
            status, headers, _ = _request(live, "GET", "/")
            assert "script-src 'self'" in headers["Content-Security-Policy"]
    finally:
        store.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.10.21", "pi-pack-01.local",  # noqa: S104
                                  "::"])
def test_a_remote_host_needs_a_token(host: str) -> None:
    with pytest.raises(ValueError, match="set token_file or token_env"):
        DisplayConfig(host=host)
    assert DisplayConfig(host=host, token_env=VAR).host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.1.1"])
def test_loopback_needs_no_token(host: str) -> None:
    assert DisplayConfig(host=host).token() is None


def test_a_token_that_cannot_be_read_is_a_clear_error(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecretMissing, match=r"display.token_file: cannot read .*/absent"):
        DisplayConfig(token_file=tmp_path / "absent").token()
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(SecretMissing, match="is empty"):
        DisplayConfig(token_file=tmp_path / "empty").token()
    monkeypatch.delenv(VAR, raising=False)
    with pytest.raises(SecretMissing, match=f"variable {VAR} is not set"):
        DisplayConfig(token_env=VAR).token()
    monkeypatch.setenv(VAR, " tok ")
    assert DisplayConfig(token_env=VAR).token() == "tok"
    with pytest.raises(ValueError, match="not both"):
        DisplayConfig(token_env=VAR, token_file=tmp_path / "empty")


def test_a_taken_port_or_an_unknown_scanner_is_a_clear_error(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    service = StationService(station_config(tmp_path, broker_config, new_site(),
                                            pty_pair.path))

    async def run() -> None:
        first = DisplayServer(service, DisplayConfig(port=0))
        await first.start()
        try:
            with pytest.raises(OSError, match=rf"cannot listen on 127.0.0.1:{first.port}:"
                                              r".*set display.port"):
                await DisplayServer(service, DisplayConfig(port=first.port)).start()
        finally:
            await first.stop()
        with pytest.raises(ValueError, match=r"display.scanner: no scanner named 'nobody';"
                                             r" this station has gun"):
            await DisplayServer(service, DisplayConfig(port=0, scanner="nobody")).start()

    asyncio.run(run())


def test_the_station_service_serves_the_page_when_enabled(
    tmp_path: Path, broker_config: BrokerConfig, pty_pair: Pty
) -> None:
    """The wiring: display.enabled starts the page with the station, stop stops it."""
    site = new_site()
    store = started(make_store(tmp_path, broker_config, site))
    base = station_config(tmp_path, broker_config, site, pty_pair.path)
    config = StationConfig.model_validate(
        {**base.model_dump(), "display": {"enabled": True, "port": 0}})

    async def scenario() -> tuple[int, object]:
        async with running_station(config) as (service, _events):
            assert service.display is not None
            url = f"http://127.0.0.1:{service.display.port}/"
            page = await asyncio.to_thread(
                lambda: urllib.request.urlopen(url, timeout=5).read())
            held = service
        return len(page), held.display

    try:
        size, after = asyncio.run(scenario())
    finally:
        store.stop()
    assert size > 500
    assert after is None
