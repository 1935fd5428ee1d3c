"""`alerte-message diagnostic`: each check in its ✓ and ✗ form, against the emulators (Google
Sheets and Drive, the Graph API, Brevo, the public site served by the intake application)."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from sender import schema
from sender.channels.graph import tier_limit
from sender.config import Settings
from sender.diagnostic import Status, blocking, run
from sender.diagnostic import local as local_checks
from sender.diagnostic import sms as sms_checks
from sender.diagnostic import whatsapp as wa_checks
from support.diagnostic_world import add_templates, diagnostic_world
from support.emulators.sheets import OWNER, SERVICE_ACCOUNT, SheetsEmulator
from support.emulators.sheets.drive import user_permission
from support.scenario import alerte_message_bin

ADDRESS = "Adresse publique (ALERTE_SITE_URL)"


def lines_by_title(settings: Settings, services=None) -> dict[str, object]:
    return {line.title: line for line in run(settings, services)}


@pytest.fixture
def world(tmp_path: Path, sheets: SheetsEmulator):
    with diagnostic_world(tmp_path, sheets) as world:
        yield world


def test_every_check_passes_against_a_well_configured_installation(world):
    lines = lines_by_title(world.settings, world.services)
    # The emulated site is plain HTTP on 127.0.0.1: only the address check can object to it.
    assert lines.pop(ADDRESS).status is Status.FAIL
    not_ok = {t: (line.status, line.detail) for t, line in lines.items()
              if line.status is not Status.OK}
    assert not not_ok
    assert "TIER_2K" in lines["WhatsApp : jeton et numéro"].detail
    assert "GREEN" in lines["WhatsApp : jeton et numéro"].detail
    assert "5000 crédits SMS" in lines["SMS : clé et crédits Brevo"].detail
    assert "écart" in lines["Horloge du serveur"].detail


def test_the_site_address_must_be_https_in_production():
    production = Settings(channel="whatsapp")
    assert local_checks.site_address(
        replace(production, site_url="https://alerte.example.fr")).status is Status.OK
    line = local_checks.site_address(replace(production, site_url="http://alerte.example.fr"))
    assert line.status is Status.FAIL and "HTTPS" in line.detail


def test_local_default_is_all_ok_or_local_mode(tmp_path: Path):
    env = {**os.environ, "ALERTE_JOURNAL": str(tmp_path / "data/journal.sqlite"),
           "ALERTE_REGISTRE": str(tmp_path / "data/registre.sqlite")}
    for name in [k for k in env if k.startswith(("WHATSAPP_", "SMS_", "GOOGLE_"))
                 or k in ("ALERTE_CANAL", "ALERTE_SITE_URL", "ALERTE_SECRET")]:
        del env[name]
    import subprocess

    subprocess.run([alerte_message_bin(), "initialiser"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    done = subprocess.run([alerte_message_bin(), "diagnostic"], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    checks = [line for line in done.stdout.splitlines() if line[:1] in "✓!✗"]
    assert len(checks) >= 15
    assert all(line.startswith("✓") for line in checks), done.stdout
    assert sum("mode local" in line for line in checks) >= 8


def test_a_missing_register_is_blocking(tmp_path: Path):
    settings = Settings(register=str(tmp_path / "absent.sqlite"),
                        journal=tmp_path / "journal.sqlite")
    lines = lines_by_title(settings)
    assert lines["Registre"].status is Status.FAIL
    assert "initialiser" in lines["Registre"].fix
    assert blocking(lines.values())
    assert not (tmp_path / "absent.sqlite").exists()  # the diagnostic creates nothing


def test_an_expired_token_is_reported_with_what_to_do(world):
    settings = replace(world.settings, whatsapp_token="perime")
    lines = lines_by_title(settings, world.services)
    number = lines["WhatsApp : jeton et numéro"]
    assert number.status is Status.FAIL and "190" in number.detail
    assert "WHATSAPP_TOKEN" in number.fix
    assert lines["WhatsApp : modèles approuvés"].status is Status.FAIL
    assert lines["WhatsApp : abonnement aux webhooks"].status is Status.FAIL


def test_a_wrong_phone_number_id_is_reported(world):
    lines = lines_by_title(replace(world.settings, whatsapp_phone_id="999"), world.services)
    assert lines["WhatsApp : jeton et numéro"].status is Status.FAIL
    assert "WHATSAPP_PHONE_NUMBER_ID" in lines["WhatsApp : jeton et numéro"].fix


def test_quality_rating_yellow_warns_and_red_blocks(world):
    world.whatsapp.graph.phone["quality_rating"] = "YELLOW"
    assert lines_by_title(world.settings, world.services)[
        "WhatsApp : jeton et numéro"].status is Status.WARN
    world.whatsapp.graph.phone["quality_rating"] = "RED"
    assert lines_by_title(world.settings, world.services)[
        "WhatsApp : jeton et numéro"].status is Status.FAIL


@pytest.mark.parametrize(("change", "expected"), [
    ("paused", "PAUSED"),
    ("marketing", "MARKETING"),
    ("parameters", "paramètres"),
    ("body", "texte approuvé diffère"),
    ("missing", "n'existe pas"),
])
def test_each_template_problem_is_named(world, change: str, expected: str):
    wa = world.whatsapp
    name = "prevention_commercants"
    if change == "paused":
        wa.set_template_status(name, "PAUSED")
    elif change == "marketing":
        wa.add_template(name, parameters=("message", "service"), category="MARKETING",
                        body=wa.templates[name].body)
    elif change == "parameters":
        wa.add_template(name, parameters=("message",), body="PRÉVENTION\n{{message}}\nFin")
    elif change == "body":
        wa.add_template(name, parameters=("message", "service"),
                        body="Prévention : {{message}} ({{service}})")
    else:
        del wa.templates[name]
    line = lines_by_title(world.settings, world.services)["WhatsApp : modèles approuvés"]
    assert line.status is Status.FAIL
    assert name in line.detail and expected in line.detail


def test_templates_are_read_across_pages(world):
    wa = world.whatsapp
    wa.templates.clear()
    for index in range(130):  # the account has many other templates: ours come last
        wa.add_template(f"autre_{index:03d}", parameters=("texte",))
    add_templates(wa)
    wa.graph.page_size_cap = 50
    line = lines_by_title(world.settings, world.services)["WhatsApp : modèles approuvés"]
    assert line.status is Status.OK, line.detail
    assert wa.graph.pages_served >= 3


def test_no_business_account_id_is_blocking(world):
    lines = lines_by_title(replace(world.settings, whatsapp_business_id=None), world.services)
    assert "WHATSAPP_BUSINESS_ACCOUNT_ID" in lines["WhatsApp : modèles approuvés"].detail


def test_an_app_not_subscribed_to_the_webhooks_is_blocking(world):
    world.whatsapp.graph.subscribed = False
    line = lines_by_title(world.settings, world.services)["WhatsApp : abonnement aux webhooks"]
    assert line.status is Status.FAIL and "aucune application" in line.detail


def test_webhook_handshake_fails_with_another_verify_token(world):
    lines = lines_by_title(replace(world.settings, whatsapp_verify_token="autre"),
                           world.services)
    assert lines["Site public : vérification du webhook"].status is Status.FAIL
    assert lines["Site public : /sante"].status is Status.OK


def test_an_unreachable_site_is_blocking(world):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lines = lines_by_title(replace(world.settings, site_url=f"http://127.0.0.1:{port}"),
                           world.services)
    assert lines["Site public : /sante"].status is Status.FAIL
    assert "injoignable" in lines["Site public : /sante"].detail


def test_brevo_key_credits_and_sender_name(world):
    lines = lines_by_title(replace(world.settings, sms_api_key="mauvaise"), world.services)
    assert lines["SMS : clé et crédits Brevo"].status is Status.FAIL
    assert "401" in lines["SMS : clé et crédits Brevo"].detail
    world.sms.credits = 0
    line = lines_by_title(replace(world.settings, channel="sms"),
                          world.services)["SMS : clé et crédits Brevo"]
    assert line.status is Status.FAIL and "0 crédits" in line.detail
    world.sms.credits = 3  # 20 members × 4 alerts a month by SMS: 80 needed
    line = lines_by_title(replace(world.settings, channel="sms"),
                          world.services)["SMS : clé et crédits Brevo"]
    assert line.status is Status.WARN and "80" in line.detail
    assert sms_checks.sender_name(replace(world.settings, sms_sender="Alerte CMA 48")
                                  ).status is Status.FAIL
    assert sms_checks.sender_name(replace(world.settings, sms_sender="AlerteCMA48")
                                  ).status is Status.OK


def test_clock_skew_over_30_seconds_is_blocking(world):
    world.whatsapp.clock_offset = 95
    line = lines_by_title(world.settings, world.services)["Horloge du serveur"]
    assert line.status is Status.FAIL and "+9" in line.detail
    assert local_checks.clock({"Brevo": 2.0}).status is Status.OK


def test_service_account_must_be_an_editor_of_the_sheet(world):
    sheets, key = world.sheets, world.key
    sheets.share(key, [user_permission(OWNER, "owner"),
                       user_permission(SERVICE_ACCOUNT, "reader")])
    line = lines_by_title(world.settings, world.services)["Partage de la feuille"]
    assert line.status is Status.FAIL and "Éditeur" in line.fix
    sheets.share(key, None, drive_enabled=False)
    line = lines_by_title(world.settings, world.services)["Partage de la feuille"]
    assert line.status is Status.WARN and "Drive" in line.detail


def test_unreadable_credentials_and_a_sheet_not_shared(world):
    world.credentials.write_text("pas du json", "utf-8")
    line = lines_by_title(world.settings, world.services)["Compte de service Google"]
    assert line.status is Status.FAIL
    world.credentials.write_text(f'{{"client_email": "{SERVICE_ACCOUNT}"}}', "utf-8")
    world.sheets.set_access(world.key, False)
    line = lines_by_title(world.settings, world.services)["Registre"]
    assert line.status is Status.FAIL and "403" in line.detail
    assert SERVICE_ACCOUNT in line.fix


def test_missing_tab_headers_templates_and_protection(world):
    sheets, key = world.sheets, world.key
    sheets.set_values(key, schema.ALERTES, [["identifiant_modifie"]], start_col=4)
    sheets.sheet(key, schema.ALERTES).protected_ranges.clear()
    sheets.delete_rows(key, schema.MODELES, 2, 4)
    lines = lines_by_title(world.settings, world.services)
    assert "Alertes : agent" in lines["Onglets et colonnes"].detail
    assert lines["Onglet Modeles"].status is Status.FAIL
    assert "Modeles" in lines["Onglet Modeles"].fix
    sheets.delete_rows(key, schema.MODELES, 2, 20)
    line = lines_by_title(world.settings, world.services)["Onglet Modeles"]
    assert "vide" in line.detail and "initialiser" in line.fix
    protection = lines["Protections Alertes et Habilitations"]
    assert protection.status is Status.FAIL and "Alertes n'est pas protégé" in protection.detail


def test_no_active_officer_is_blocking_in_production(world):
    sheets, key = world.sheets, world.key
    sheets.set_values(key, schema.HABILITATIONS, [["non"]], start_row=2, start_col=4)
    line = lines_by_title(world.settings, world.services)["Agents habilités"]
    assert line.status is Status.FAIL


def test_secret_data_folder_disk_and_journal(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    settings = Settings(journal=data / "journal.sqlite", channel="whatsapp")
    assert local_checks.data_folder(settings).status is Status.WARN
    data.chmod(0o700)
    assert local_checks.data_folder(settings).status is Status.OK
    assert local_checks.secret(replace(settings, secret="court")).status is Status.FAIL
    (data / "secret.key").write_text("x" * 64)
    (data / "secret.key").chmod(0o644)
    assert local_checks.secret(settings).status is Status.FAIL
    assert local_checks.disk(settings).status in (Status.OK, Status.WARN)
    with sqlite3.connect(data / "journal.sqlite") as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(2000)])
    assert local_checks.journal(settings).status is Status.OK
    raw = bytearray((data / "journal.sqlite").read_bytes())
    raw[4096:4096 + 12] = b"\xff" * 12  # a torn page: its b-tree header is garbage
    (data / "journal.sqlite").write_bytes(bytes(raw))
    assert local_checks.journal(settings).status is Status.FAIL


def test_template_problems_is_pure_and_reads_modeles_rows():
    rows = [{"canal": "whatsapp", "modele_whatsapp": "alerte_x", "langue": "fr",
             "texte": "nature: {{ type }}\n# commentaire\nlieu: {{ commune }}"},
            {"canal": "sms", "modele_whatsapp": "", "texte": "ALERTE"}]
    wanted = wa_checks.expected_templates(rows)
    assert wanted == {("alerte_x", "fr"): {"nature", "lieu"}}
    found = [{"name": "alerte_x", "language": "fr", "status": "APPROVED", "category": "UTILITY",
              "components": [{"type": "BODY", "text": "A {{nature}} B {{lieu}} C"}]}]
    assert wa_checks.template_problems(found, wanted) == []
    assert tier_limit("TIER_2K") == 2000
    assert tier_limit("TIER_250") == 250
    assert tier_limit("TIER_UNLIMITED") is None


def test_the_register_checks_go_through_google_sheets_api_url(world):
    """No client factory: Sheets and Drive are reached at GOOGLE_SHEETS_API_URL, where a
    loopback address needs no key; anywhere else the key stays required."""
    keyless = replace(world.settings, credentials=None, sheets_api=world.sheets.base_url)
    lines = lines_by_title(keyless)
    titles = ["Compte de service Google", "Registre", "Partage de la feuille",
              "Onglets et colonnes", "Protections Alertes et Habilitations", "Agents habilités"]
    assert {t: lines[t].status for t in titles} == dict.fromkeys(titles, Status.OK), \
        {t: lines[t].detail for t in titles}
    assert "aucune clé" in lines["Compte de service Google"].detail
    sharing = lines["Partage de la feuille"].detail
    assert "mode local" in sharing and SERVICE_ACCOUNT in sharing and OWNER in sharing
    remote = replace(keyless, sheets_api="https://sortie.intranet.fr")
    line = lines_by_title(remote)["Compte de service Google"]
    assert line.status is Status.FAIL and "GOOGLE_APPLICATION_CREDENTIALS" in line.detail
