"""Knowing when the sender stops: `/sante` healthy and not, the push pings of an uptime monitor
(`ALERTE_PING_URL`), systemd's watchdog, the `Alertes` banner the sheet computes itself, the
same warning from `verifier` on SQLite, and setting errors ending `surveiller` with code 78."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sqlite3
import subprocess
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from systemd_watchdog import WatchDog

from sender import schema
from sender.cli import main
from sender.config import Settings
from sender.dates import format_french
from sender.dates import now as paris_now
from sender.health.monitor import Monitor
from sender.health.ping import ping_address
from sender.health.report import health
from sender.health.state import Heartbeat, heartbeat_path, write_heartbeat
from sender.intake.app import create_app
from sender.journal.journal import Journal
from sender.register.sheets.banner import is_banner
from sender.runner import Sender
from support.emulators.sheets import SheetsEmulator
from support.emulators.sheets.state import paris_wall_time
from support.scenario import (
    ROOT,
    alerte_message_bin,
    quiet_console,
    sheets_register,
    subprocess_env,
)
from support.site import served

# --- /sante --------------------------------------------------------------------------------


def _settings(tmp_path: Path, poll: float = 10.0) -> Settings:
    return Settings(register=str(tmp_path / "registre.sqlite"),
                    journal=tmp_path / "data" / "journal.sqlite", poll_seconds=poll)


def _get(app, path: str) -> tuple[int, dict]:
    answer: dict = {}

    def start_response(status: str, headers: list) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": "1.2.3.4",
                         "wsgi.input": None}, start_response))
    assert answer["headers"]["Content-Type"].startswith("application/json")
    assert answer["headers"]["Cache-Control"] == "no-store"
    return answer["status"], json.loads(body)


def _journal(settings: Settings) -> None:
    journal = Journal(settings.journal)
    journal.open_or_create()
    journal.close()


def _app(settings: Settings):
    return create_app(lambda: None, settings.data_dir, ROOT / "site" / "templates",
                      health=lambda: health(settings))


def test_sante_is_healthy_after_a_recent_cycle_with_a_writable_journal(tmp_path: Path):
    settings = _settings(tmp_path)
    _journal(settings)
    now = time.time()
    with sqlite3.connect(settings.journal) as conn:
        conn.execute("INSERT INTO statuts (wamid, status, received_at) VALUES ('w', 'read', ?)",
                     (now - 30,))
    write_heartbeat(heartbeat_path(settings.data_dir), Heartbeat(
        pid=1, poll_seconds=10, last_success=now - 5, last_summary="rien à faire"))
    status, body = _get(_app(settings), "/sante")
    assert status == 200 and body["etat"] == "ok"
    assert body["age_dernier_passage_secondes"] == pytest.approx(5, abs=2)
    assert body["journal"] == {"etat": "ok", "ecriture": True}
    assert body["dernier_webhook"] is not None and body["limite_secondes"] == 30
    assert body["dernier_bilan"] == "rien à faire"


def test_sante_is_unhealthy_when_the_last_successful_cycle_is_older_than_three_polls(
    tmp_path: Path,
):
    settings = _settings(tmp_path)
    _journal(settings)
    now = time.time()
    write_heartbeat(heartbeat_path(settings.data_dir), Heartbeat(
        poll_seconds=10, last_success=now - 31,
        last_error={"at": now - 1, "message": "Google Sheets ne répond pas"}))
    status, body = _get(_app(settings), "/sante")
    assert status == 503 and body["etat"] == "en panne"
    assert body["problemes"] == ["aucun passage réussi depuis plus de 30 s"]
    assert body["derniere_erreur"]["message"] == "Google Sheets ne répond pas"


def test_sante_stays_healthy_during_a_long_dispatch_that_advances(tmp_path: Path):
    settings = _settings(tmp_path)
    _journal(settings)
    now = time.time()
    write_heartbeat(heartbeat_path(settings.data_dir), Heartbeat(
        poll_seconds=10, last_success=now - 600, started=now - 590, progress=now - 2))
    assert health(settings, now).healthy


def test_sante_is_unhealthy_without_a_heartbeat_or_when_the_journal_cannot_be_written(
    tmp_path: Path,
):
    settings = _settings(tmp_path)
    _journal(settings)
    status, body = _get(_app(settings), "/sante")
    assert status == 503 and "aucun passage de « surveiller » enregistré" in body["problemes"]

    write_heartbeat(heartbeat_path(settings.data_dir), Heartbeat(last_success=time.time()))
    settings.journal.unlink()
    settings.journal.write_bytes(b"pas une base SQLite" * 100)  # the journal is damaged
    report = health(settings)
    assert not report.healthy and report.body["journal"]["ecriture"] is False
    assert report.body["problemes"] == ["journal impossible à écrire (endommagé)"]


def test_servir_answers_sante_over_http(tmp_path: Path):
    """Through the real server `servir` runs (`make_app`), computed at most every 5 s."""
    from sender.intake.server import make_app, make_server

    settings = _settings(tmp_path)
    _journal(settings)
    write_heartbeat(heartbeat_path(settings.data_dir), Heartbeat(last_success=time.time()))
    server = make_server(make_app(settings, tmp_path, ROOT / "site" / "templates"),
                         "127.0.0.1", 0)
    with served(server) as url:
        import requests

        first = requests.get(f"{url}sante", timeout=5)
        assert first.status_code == 200 and first.json()["etat"] == "ok"
        assert requests.post(f"{url}sante", timeout=5).status_code == 405


# --- the push pings ------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, str]]

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        self.server.calls.append((self.command, self.path, body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    do_GET = do_POST = _record

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def monitor_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.calls = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not before the deadline"
        time.sleep(0.01)


def test_ping_addresses_follow_the_healthchecks_convention():
    assert ping_address("https://hc-ping.com/abc", "start") == "https://hc-ping.com/abc/start"
    assert ping_address("https://hc-ping.com/abc", "success") == "https://hc-ping.com/abc"
    assert ping_address("https://k.example/api/push/T?x=1", "fail") == (
        "https://k.example/api/push/T/fail?x=1")


def test_a_cycle_pings_start_then_success_or_fail_with_its_reason(tmp_path: Path,
                                                                   monitor_server):
    url = f"http://127.0.0.1:{monitor_server.server_address[1]}/ping/abc"
    monitor = Monitor(tmp_path, 10, ping_url=url, watchdog=WatchDog(addr=""))
    monitor.cycle_started()
    monitor.cycle_succeeded("2 alertes diffusées")
    monitor.cycle_started()
    monitor.cycle_failed("Google Sheets ne répond pas ; numéro 06 12 34 56 78")
    monitor.close()
    assert [(m, p) for m, p, _ in monitor_server.calls] == [
        ("GET", "/ping/abc/start"), ("GET", "/ping/abc"), ("GET", "/ping/abc/start"),
        ("POST", "/ping/abc/fail")]
    reason = monitor_server.calls[-1][2]
    assert reason.startswith("Google Sheets ne répond pas") and "12 34 56" not in reason


def test_an_unreachable_monitor_is_logged_once_and_never_slows_a_cycle(tmp_path: Path, caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monitor = Monitor(tmp_path, 10, ping_url=f"http://127.0.0.1:{port}/x",
                      watchdog=WatchDog(addr=""))
    caplog.set_level(logging.WARNING, logger="sender.health.ping")
    started = time.monotonic()
    for _ in range(5):
        monitor.cycle_started()
        monitor.cycle_failed("erreur")
    assert time.monotonic() - started < 0.5  # the pings wait in their own thread
    monitor.close()
    warnings = [r for r in caplog.records if "injoignable" in r.getMessage()]
    assert len(warnings) == 1


# --- systemd's watchdog --------------------------------------------------------------------


def test_the_watchdog_is_kept_between_cycles_and_during_progress_but_not_by_a_hung_cycle(
    tmp_path: Path, monkeypatch,
):
    address = str(tmp_path / "notify.sock")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    receiver.settimeout(0.05)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # 0.4 s
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    messages: list[str] = []

    def drain(seconds: float) -> list[str]:
        got: list[str] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                got.append(receiver.recv(1024).decode())
        messages.extend(got)
        return got

    monitor = Monitor(tmp_path, 10)
    monitor.start()
    try:
        idle = drain(0.5)
        assert "READY=1\n" in idle and idle.count("WATCHDOG=1\n") >= 2
        monitor.cycle_started()
        drain(0.3)  # the cycle may still look alive for half the period
        assert "WATCHDOG=1\n" not in drain(0.5)  # hung: systemd would restart it
        for _ in range(5):
            monitor.progress()
            time.sleep(0.1)
        assert "WATCHDOG=1\n" in drain(0.15)  # a dispatch that advances is alive
        monitor.cycle_succeeded("ok")
        assert drain(0.3).count("WATCHDOG=1\n") >= 1
    finally:
        monitor.close()
        receiver.close()
    assert any(m.startswith("STATUS=Dernier passage réussi") for m in messages)


# --- the Alertes banner on Google Sheets and the same warning from verifier on SQLite -------


def test_the_alertes_banner_turns_red_when_the_heartbeat_is_three_minutes_old(
    sheets: SheetsEmulator, tmp_path: Path,
):
    register, key = sheets_register(sheets)
    register.initialise()
    meta = sheets.spreadsheet(key).metadata()["properties"]
    assert (meta["autoRecalc"], meta["timeZone"]) == ("MINUTE", "Europe/Paris")
    header = sheets.values(key, schema.ALERTES)[0]
    column = len(header)
    assert header[-1].startswith("⚠ Envoi arrêté\u00a0: aucun passage")  # never ran yet
    settings = Settings(register=key, journal=tmp_path / "journal.sqlite")
    sender = Sender(register, settings, console=quiet_console())
    try:
        sender.run_once()  # writes the heartbeat in Etat
    finally:
        sender.close()
    stamp = next(r[1] for r in sheets.values(key, schema.ETAT) if r[0] == "dernier_passage")
    banner = sheets.values(key, schema.ALERTES)[0][-1]
    assert banner == f"✓ Envoi en marche (dernier passage {stamp})"
    assert sheets.conditional_format(key, schema.ALERTES, 1, 1) is None
    assert register.read([schema.ALERTES])[schema.ALERTES].headers == list(
        schema.COLUMNS[schema.ALERTES])  # the banner is not a column

    later = paris_wall_time() + timedelta(minutes=4)
    sheets.set_clock(lambda: later)  # the sender is dead: nothing writes, the sheet recalculates
    try:
        banner = sheets.values(key, schema.ALERTES)[0][-1]
        assert banner == f"⚠ Envoi arrêté depuis {stamp}\u00a0: prévenir la CMA"
        for cell in (1, column):
            red = sheets.conditional_format(key, schema.ALERTES, 1, cell)
            assert red is not None and red["backgroundColor"]["red"] > 0.5
        assert sheets.conditional_format(key, schema.ALERTES, 2, 1) is None  # header row only
    finally:
        sheets.set_clock(paris_wall_time)
    assert not register.initialise().changed  # once: a second initialiser adds nothing
    assert sum(is_banner(c) for c in sheets.values(key, schema.ALERTES)[0]) == 1


def test_verifier_on_sqlite_warns_like_the_banner(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("ALERTE_DOSSIER", str(tmp_path))
    for name in ("ALERTE_REGISTRE", "ALERTE_JOURNAL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["initialiser"]) == 0
    capsys.readouterr()
    assert main(["verifier"]) == 0
    assert "Envoi arrêté\u00a0: aucun passage enregistré\u00a0: prévenir la CMA" in (
        capsys.readouterr().err)
    assert main(["envoyer"]) == 0
    capsys.readouterr()
    assert main(["verifier"]) == 0
    assert "Envoi arrêté" not in capsys.readouterr().err
    from sender.register.sqlite import SQLiteRegister

    old = format_french(paris_now() - timedelta(minutes=5))
    with SQLiteRegister(tmp_path / "data" / "registre.sqlite") as register:
        row = next(r for r in register.read([schema.ETAT])[schema.ETAT].rows
                   if r.get("cle") == "dernier_passage")
        from sender.tables import CellChange

        register.write([CellChange(schema.ETAT, row.key, "valeur", old)])
    assert main(["verifier"]) == 0
    assert f"Envoi arrêté depuis {old}\u00a0: prévenir la CMA" in capsys.readouterr().err


# --- setting errors end surveiller with 78 -------------------------------------------------


@pytest.mark.slow
def test_surveiller_exits_78_with_a_french_message_on_a_setting_error(tmp_path: Path):
    register = str(tmp_path / "registre.sqlite")
    env = subprocess_env(tmp_path, register, ALERTE_INTERVALLE="0.2")
    subprocess.run([alerte_message_bin(), "initialiser"], env=env, check=True,
                   capture_output=True, timeout=60)
    missing_token = subprocess.run(
        [alerte_message_bin(), "surveiller"], env={**env, "ALERTE_CANAL": "whatsapp"},
        capture_output=True, text=True, timeout=60)
    assert missing_token.returncode == 78
    assert "Erreur de réglage" in missing_token.stderr
    assert "WHATSAPP_TOKEN" in missing_token.stderr
    credentials = subprocess.run(
        [alerte_message_bin(), "surveiller"],
        env={**env, "ALERTE_REGISTRE": "https://docs.google.com/spreadsheets/d/"
             "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd/edit",
             "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "absent.json")},
        capture_output=True, text=True, timeout=60)
    assert credentials.returncode == 78
    assert "compte de service introuvable" in credentials.stderr


def test_the_heartbeat_every_minute_costs_two_sheets_requests(sheets: SheetsEmulator,
                                                                tmp_path: Path):
    """An idle poll is one read; once a minute the heartbeat adds its look and its write."""
    from sender.runner import HEARTBEAT_SECONDS
    from support.scenario import fill

    assert HEARTBEAT_SECONDS <= 60
    register, key = sheets_register(sheets)
    fill(register, 10)
    shift = [timedelta(0)]
    sender = Sender(register, Settings(register=key, journal=tmp_path / "journal.sqlite"),
                    console=quiet_console(), clock=lambda: paris_now() + shift[0])
    try:
        sender.run_once()
        sheets.reset_counts()
        sender.run_once()
        assert sheets.total_requests == 1  # idle, heartbeat not due
        sender._last_heartbeat = time.monotonic() - HEARTBEAT_SECONDS  # a minute later
        shift[0] = timedelta(minutes=1)
        sheets.reset_counts()
        sender.run_once()
        assert dict(sheets.requests) == {"values_batch_get": 2, "values_batch_update": 1}
    finally:
        sender.close()


@pytest.mark.slow
def test_surveiller_speaks_sd_notify_as_systemd_expects_of_type_notify(tmp_path: Path,
                                                                        monitor_server):
    """A real `surveiller`: READY=1, then WATCHDOG=1 while idle, the heartbeat file, pings."""
    address = str(tmp_path / "notify.sock")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    receiver.settimeout(0.2)
    env = subprocess_env(tmp_path, str(tmp_path / "data" / "registre.sqlite"),
                         ALERTE_INTERVALLE="0.3", ALERTE_DOSSIER=str(tmp_path),
                         ALERTE_JOURNAL=str(tmp_path / "data" / "journal.sqlite"),
                         ALERTE_PING_URL=f"http://127.0.0.1:{monitor_server.server_address[1]}"
                                         "/ping/u")
    subprocess.run([alerte_message_bin(), "initialiser"], env=env, check=True,
                   capture_output=True, timeout=60)
    process = subprocess.Popen(
        [alerte_message_bin(), "surveiller"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**env, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"})
    received: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while received.count("WATCHDOG=1\n") < 2 and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                received.append(receiver.recv(1024).decode())
    finally:
        process.terminate()
        process.wait(timeout=30)
        receiver.close()
    assert received[0] == "READY=1\n"
    assert received.count("WATCHDOG=1\n") >= 2
    assert process.returncode == 0  # SIGTERM: the cycle ends, then the loop
    beat = json.loads((tmp_path / "data" / "sante.json").read_text("utf-8"))
    assert beat["last_success"] is not None and beat["poll_seconds"] == 0.3
    assert ("GET", "/ping/u/start", "") in monitor_server.calls
    assert ("GET", "/ping/u", "") in monitor_server.calls


def test_template_statuses_from_meta_webhooks_are_in_the_health_answer(tmp_path: Path) -> None:
    from sender.delivery.account import AccountEvents, TemplateStatus, save_account
    from sender.delivery.store import DeliveryStore
    from sender.health.report import journal_facts

    journal = tmp_path / "journal.sqlite"
    store = DeliveryStore(journal)
    store.open_or_create()
    save_account(store, AccountEvents(templates=[
        TemplateStatus("alerte_commercants", "fr", "PAUSED", "quality", time.time()),
    ]))
    assert journal_facts(journal)["modeles"] == {"alerte_commercants (fr)": "PAUSED"}
