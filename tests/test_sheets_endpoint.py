"""GOOGLE_SHEETS_API_URL: where the Google register sends its requests, and when it may go
without a service-account key (only towards this machine)."""

from __future__ import annotations

import pytest
import requests
from requests.adapters import HTTPAdapter

from sender import schema
from sender.config import GOOGLE_SHEETS_API, Settings, is_loopback
from sender.errors import ConfigurationError
from sender.register.factory import open_register
from sender.register.sheets.endpoint import RebasedAdapter, rebase, sheets_client
from support.emulators.sheets import SheetsEmulator

KEY = "1AbCEndpointDuRegistreGoogle0123456789"


def test_the_setting_defaults_to_google_and_accepts_https_or_a_local_address() -> None:
    assert Settings.from_env({}).sheets_api == GOOGLE_SHEETS_API
    assert Settings().sheets_api == GOOGLE_SHEETS_API
    local = Settings.from_env({"GOOGLE_SHEETS_API_URL": "http://127.0.0.1:8765/"})
    assert local.sheets_api == "http://127.0.0.1:8765"
    proxy = Settings.from_env({"GOOGLE_SHEETS_API_URL": "https://sortie.intranet.fr:8443"})
    assert proxy.sheets_api == "https://sortie.intranet.fr:8443"


@pytest.mark.parametrize("url", ["http://sortie.intranet.fr", "ftp://127.0.0.1", "https://",
                                 "sheets.googleapis.com"])
def test_plain_http_elsewhere_than_this_machine_is_refused_in_french(url: str) -> None:
    with pytest.raises(ConfigurationError, match="GOOGLE_SHEETS_API_URL doit être"):
        Settings.from_env({"GOOGLE_SHEETS_API_URL": url})


@pytest.mark.parametrize(("url", "local"), [
    ("http://127.0.0.1:9", True), ("http://127.8.0.1", True), ("http://localhost:80", True),
    ("http://[::1]:8080", True), ("https://sheets.googleapis.com", False),
    ("http://10.0.0.1", False), ("http://127.0.0.1.nip.io", False),
])
def test_loopback_addresses(url: str, local: bool) -> None:
    assert is_loopback(url) is local


def test_the_adapter_rewrites_only_google_s_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    # The parent adapter would open a connection: record the address it is given instead.
    monkeypatch.setattr(HTTPAdapter, "send", lambda self, r, *a, **k: sent.append(r.url))
    adapter = RebasedAdapter("http://127.0.0.1:1/")
    adapter.send(requests.Request("GET", GOOGLE_SHEETS_API + "/v4/spreadsheets/k?x=1").prepare())
    adapter.send(requests.Request("GET", "https://oauth2.googleapis.com/token").prepare())
    assert sent == ["http://127.0.0.1:1/v4/spreadsheets/k?x=1",
                    "https://oauth2.googleapis.com/token"]


def test_google_s_own_address_mounts_nothing() -> None:
    session = requests.Session()
    rebase(session, GOOGLE_SHEETS_API + "/")
    assert not isinstance(session.get_adapter(GOOGLE_SHEETS_API), RebasedAdapter)


def test_a_loopback_register_needs_no_key_and_talks_to_the_emulator(
    sheets: SheetsEmulator,
) -> None:
    sheets.create_spreadsheet(KEY)
    settings = Settings(register=KEY, sheets_api=sheets.base_url)
    with open_register(settings) as register:
        assert register.initialise().created_tabs
    assert set(schema.TABS) <= set(sheets.tabs(KEY))
    assert sheets.requests["batch_update"] >= 1


def test_elsewhere_the_service_account_key_is_still_required() -> None:
    for api in (GOOGLE_SHEETS_API, "https://sortie.intranet.fr"):
        with pytest.raises(ConfigurationError, match="GOOGLE_APPLICATION_CREDENTIALS"):
            open_register(Settings(register=KEY, sheets_api=api))
        with pytest.raises(ConfigurationError, match="GOOGLE_APPLICATION_CREDENTIALS"):
            sheets_client(None, api)
