"""The Google register end to end, as production runs it: the real `alerte-message` commands,
each in its own process, against the Sheets emulator in its own process
(`GOOGLE_SHEETS_API_URL`) and the WhatsApp emulator in its own process, which posts signed
status webhooks to `servir`.

The run is a list of named steps (`STEPS`), played in order on one spreadsheet; a failure names
its step. Between commands, staff edit the sheet by hand (a row inserted in `Inscriptions`,
`Alertes` sorted): the outcome must stay the same. After every step, no request may have been
refused by the emulator, which checks each one against Google's discovery document: a command
that writes a request Google would refuse fails this test.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sender import schema
from sender.cleaning.suppressions import SuppressionList
from sender.config import Settings
from sender.consent.messages import TEMPLATES
from sender.dates import format_french, now
from sender.domain.phones import parse_phone
from sender.journal.file import JournalFile
from sender.journal.privacy import first_seen
from support.emulators.graph_account import WABA_ID
from support.emulators.process import EmulatorProcess, SheetsProcess
from support.scenario import (
    APP_SECRET,
    PHONE_ID,
    ROOT,
    TOKEN,
    VERIFY_TOKEN,
    alerte_message_bin,
    subprocess_env,
)
from support.site import build_fixture_site

pytestmark = pytest.mark.slow

KEY = "1AbCGoogleDeBoutEnBout48Lozere0123456789"
EXAMPLES = ROOT / "exemples"
SECRET = "secret-des-liens-de-confirmation-de-bout-en-bout-0123456789"
SIGNUP = {
    "nom": "Émilie Causse",
    "entreprise": "Fromagerie des Causses",
    "activite": "Alimentation (boulangerie, boucherie, épicerie…)",
    "commune": "Florac",
    "telephone": "06 45 67 89 01",
    "consentement": "oui",
}
SIGNUP_NUMERO = "+33645678901"
STALE_SIGNUP = "Gérard Vidal"  # a form sign-up of 40 days ago, never confirmed
UNSUBSCRIBED = "07 56 12 34 56"  # Bruno Fabre of exemples/inscriptions.csv
OFFICER_EMAILS = ["adjudant.martin.g48001@gmail.com", "brigadier.durand.p48001@gmail.com"]
REGISTER_CHECKS = ["Compte de service Google", "Registre", "Partage de la feuille",
                   "Onglets et colonnes", "Onglet Modeles",
                   "Protections Alertes et Habilitations", "Agents habilités"]
WHATSAPP_CHECKS = ["WhatsApp : jeton et numéro", "WhatsApp : modèles approuvés",
                   "WhatsApp : abonnement aux webhooks"]
# The mobiles of exemples/inscriptions.csv (its landline never gets alerts) and the sign-up.
ALERTED = sorted(["33612345678", "33756123456", "33698765432", SIGNUP_NUMERO.lstrip("+")])
DRAFT = "Brouillon saisi à la main : ne pas diffuser."
WAIT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll `check` until it returns something true; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"attendu en {timeout:g} s : {what}")


@dataclass
class Run:
    """What the steps share: the emulator processes, the environment of every command, the
    served site, and the long-running commands (`servir`, `surveiller`) while they run."""

    tmp: Path
    sheets: SheetsProcess
    wa: EmulatorProcess
    env: dict[str, str]
    site_url: str
    site: Path
    templates: Path
    running: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    # -- commands -----------------------------------------------------------------------------

    def cli(self, *arguments: str, codes: tuple[int, ...] = (0,)
            ) -> subprocess.CompletedProcess[str]:
        """Run one command to its end; its exit code must be one of `codes`."""
        done = subprocess.run(
            [alerte_message_bin(), *arguments], env=self.env, cwd=self.tmp, text=True,
            capture_output=True, timeout=120, check=False,
        )
        assert done.returncode in codes, (
            f"alerte-message {' '.join(arguments)} → {done.returncode}\n{done.stdout}\n"
            f"{done.stderr}"
        )
        return done

    def start(self, name: str, *arguments: str) -> None:
        log = open(self.tmp / f"{name}.log", "a", encoding="utf-8")  # noqa: SIM115
        self.running[name] = subprocess.Popen(
            [alerte_message_bin(), name, *arguments], env=self.env, cwd=self.tmp, text=True,
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()

    def stop(self, name: str) -> None:
        """Stop a long-running command as Ctrl-C does; it must end cleanly."""
        process = self.running.pop(name)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        log = (self.tmp / f"{name}.log").read_text(encoding="utf-8")
        assert code == 0, f"{name} → {code}\n{log}"
        assert "Traceback" not in log, log

    def stop_all(self) -> None:
        for process in self.running.values():
            process.kill()
            process.wait(timeout=30)
        self.running.clear()

    # -- the sheet ----------------------------------------------------------------------------

    def tabs(self) -> dict[str, dict[str, Any]]:
        return {t["title"]: t for t in self.sheets.spreadsheet(KEY)["tabs"]}

    def rows(self, tab: str) -> list[dict[str, str]]:
        """The tab's rows under their headers, as staff see them (blank rows left out)."""
        values = self.tabs()[tab]["values"]
        headers = [str(h) for h in values[0]]
        return [
            {h: str(row[i]) if i < len(row) else "" for i, h in enumerate(headers)}
            for row in values[1:] if any(str(v).strip() for v in row)
        ]

    def staff(self, action: str, tab: str, **options: Any) -> None:
        self.sheets.staff(action, KEY, tab, **options)

    def exported(self, tab: str) -> list[dict[str, str]]:
        return json.loads(self.cli("exporter", "--onglet", tab, "--json").stdout)

    # -- the public site ----------------------------------------------------------------------

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        """A form post as a browser sends it from the site's own page."""
        return requests.post(
            self.site_url + path, data=data, allow_redirects=False, timeout=10,
            headers={"Origin": self.site_url, "Sec-Fetch-Site": "same-origin",
                     "Referer": self.site_url + "/inscription/"},
        )


# -- the steps ----------------------------------------------------------------------------------


def initialise_empty_sheet(run: Run) -> None:
    run.cli("initialiser")
    tabs = run.tabs()
    for tab, columns in schema.COLUMNS.items():
        assert tab in tabs, f"onglet {tab} absent : {sorted(tabs)}"
        header = [str(h) for h in tabs[tab]["values"][0]]
        banner = header[len(columns):] if tab == schema.ALERTES else []  # after the headers
        assert header == list(columns) + banner
        assert tabs[tab]["frozen_rows"] == 1
    (banner,) = [str(h) for h in tabs[schema.ALERTES]["values"][0]][len(
        schema.COLUMNS[schema.ALERTES]):]
    assert banner.startswith("⚠ Envoi arrêté"), banner  # surveiller has never run
    for tab in (schema.ALERTES, schema.HABILITATIONS):
        whole = [p for p in tabs[tab]["protected"] if not p.get("warningOnly")]
        assert whole, f"onglet {tab} non protégé : {tabs[tab]['protected']}"
    assert tabs[schema.ALERTES]["validations"] and tabs[schema.INSCRIPTIONS]["validations"]
    assert run.rows(schema.MODELES), "modèles de message par défaut absents"
    again = run.cli("initialiser")
    assert "déjà complet" in again.stderr


def import_members_and_officers(run: Run) -> None:
    run.cli("importer", str(EXAMPLES / "inscriptions.csv"))
    run.cli("importer", "--onglet", schema.HABILITATIONS, str(EXAMPLES / "habilitations.csv"))
    run.cli("initialiser")  # the protection of Alertes follows the officers
    members = run.rows(schema.INSCRIPTIONS)
    assert len(members) == 4
    assert sorted(m["numero"].lstrip("+") for m in members if m["statut"] == schema.ACTIF
                  ) == sorted(set(ALERTED) - {SIGNUP_NUMERO.lstrip("+")})
    assert [o["identifiant"] for o in run.rows(schema.HABILITATIONS)] == ["G48001", "P48001"]
    twice = run.cli("importer", str(EXAMPLES / "inscriptions.csv"))
    assert len(run.rows(schema.INSCRIPTIONS)) == 4, twice.stderr


def staff_insert_row_in_inscriptions(run: Run) -> None:
    run.staff("insert_rows", schema.INSCRIPTIONS, before=3, count=1)


def sign_up_on_the_form(run: Run) -> None:
    run.start("servir", "--port", str(urlsplit(run.site_url).port),
              "--site", str(run.site), "--modeles", str(run.templates))
    wait_for("servir répond", lambda: _answers(run.site_url + "/"))
    answer = run.post("/inscription", SIGNUP)
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"] == "/merci-inscription/"
    (row,) = [r for r in run.rows(schema.INSCRIPTIONS) if r["source"] == "formulaire"]
    assert row["nom"] == SIGNUP["nom"] and row["confirme_le"] == ""


def confirm_from_the_message(run: Run) -> None:
    run.start("surveiller")
    message = wait_for("le message de confirmation", lambda: next(
        (m for m in run.wa.accepted() if m["template"] == TEMPLATES["inscription"]), None))
    assert message["to"] == SIGNUP_NUMERO.lstrip("+")
    link = message["parameters"]["lien"]
    assert link.startswith(run.site_url + "/confirmer?jeton=")
    shown = requests.get(link, timeout=10)  # opening the link changes nothing
    token = parse_qs(urlsplit(link).query)["jeton"][0]
    assert shown.status_code == 200 and f'value="{token}"' in shown.text
    assert _signup(run)["confirme_le"] == ""
    confirmed = run.post("/confirmer", {"jeton": token})
    assert confirmed.status_code == 200
    assert re.search(r"<h1>Inscription confirmée</h1>", confirmed.text), confirmed.text
    wait_for("l'inscription active", lambda: _signup(run)["statut"] == schema.ACTIF)
    run.stop("surveiller")


def staff_sort_alertes(run: Run) -> None:
    run.cli("importer", "--onglet", schema.ALERTES, str(EXAMPLES / "alerte-prevention.csv"))
    headers = [str(h) for h in run.tabs()[schema.ALERTES]["values"][0]]
    draft = {"service": "Gendarmerie de Marvejols", "agent": "G48001", "type": "prévention",
             "description": DRAFT, "cible_zone": "toutes", "statut": schema.BROUILLON}
    run.staff("insert_rows", schema.ALERTES, before=3, count=1,
              values=[[draft.get(h, "") for h in headers]])
    run.staff("sort_rows", schema.ALERTES, column="description")
    assert [r["statut"] for r in run.rows(schema.ALERTES)] == [
        schema.BROUILLON, schema.A_DIFFUSER]


def alert_with_signed_statuses(run: Run) -> None:
    hook = run.site_url + "/webhooks/whatsapp"
    handshake = requests.get(hook, timeout=10, params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "4815"})
    assert (handshake.status_code, handshake.text) == (200, "4815")
    run.wa.webhooks(hook, APP_SECRET)
    # And while surveiller works: Alertes sorted again between its read of the register and
    # its look at where the rows are before its first write.
    run.staff("sort_rows", schema.ALERTES, column="description", reverse=True,
              next_request="values_batch_get", skip=1)
    run.start("surveiller")
    wait_for("l'alerte diffusée et remise à tous", lambda: _alert(run)["remis"] == "4")
    run.stop("surveiller")
    sent = sorted(m["to"] for m in run.wa.accepted() if m["template"] != TEMPLATES["inscription"])
    assert sent == ALERTED, "un message par adhérent actif, aucun en double"
    rows = run.rows(schema.ALERTES)
    assert [r["description"] == DRAFT for r in rows] == [False, True], "Alertes trié pendant"
    assert (rows[1]["statut"], rows[1]["envoyes"], rows[1]["motif"]) == (schema.BROUILLON, "", "")


def export(run: Run) -> None:
    (alert,) = [a for a in run.exported(schema.ALERTES) if a["statut"] != schema.BROUILLON]
    assert (alert["statut"], alert["envoyes"], alert["echecs"], alert["remis"]) == (
        schema.DIFFUSEE, "4", "0", "4")
    assert alert["diffusee_le"] and alert["motif"] == ""
    members = run.exported(schema.INSCRIPTIONS)
    values = run.tabs()[schema.INSCRIPTIONS]["values"]
    assert not any(str(v).strip() for v in values[2]), "la ligne insérée par le personnel"
    assert sorted(m["numero"].lstrip("+") for m in members if m["statut"] == schema.ACTIF
                  ) == ALERTED


def diagnostic(run: Run) -> None:
    """The checklist against the Google register (Sheets and Drive through
    GOOGLE_SHEETS_API_URL) and the WhatsApp account, `servir` answering. The example officers
    have no Google e-mail: the diagnostic says so, staff type them and run `initialiser` as
    it says, then every register check passes. Honest ✗ remain: the site is plain HTTP on
    127.0.0.1."""
    first = _diagnosis(run)
    officers = first["Agents habilités"]
    assert officers["etat"] == "!" and "sans e-mail Google" in officers["detail"], officers
    assert "initialiser" in officers["a_faire"]
    column = [str(h) for h in run.tabs()[schema.HABILITATIONS]["values"][0]].index("email")
    run.staff("set_values", schema.HABILITATIONS, rows=[[e] for e in OFFICER_EMAILS],
              start_row=2, start_col=column + 1)
    run.cli("initialiser")
    lines = _diagnosis(run)
    must_pass = [*REGISTER_CHECKS, *WHATSAPP_CHECKS, "Site public : vérification du webhook"]
    assert {t: lines[t]["etat"] for t in must_pass} == dict.fromkeys(must_pass, "✓"), (
        {t: lines[t]["detail"] for t in must_pass})
    assert "feuille « " in lines["Registre"]["detail"]
    assert "2 agent(s) actif(s), tous avec un e-mail" in lines["Agents habilités"]["detail"]
    assert lines["Adresse publique (ALERTE_SITE_URL)"]["etat"] == "✗"
    text = run.cli("diagnostic", codes=(1,)).stdout
    assert all(f"✓ {t} :" in text for t in must_pass), text
    assert "Des contrôles bloquent l'envoi" in text


def _diagnosis(run: Run) -> dict[str, dict[str, str]]:
    """`diagnostic --json` by check title; its exit code says whether a line is ✗."""
    done = run.cli("diagnostic", "--json", codes=(0, 1))
    answer = json.loads(done.stdout)
    lines = {line["controle"]: line for line in answer["controles"]}
    blocked = any(line["etat"] == "✗" for line in lines.values())
    assert answer["bloquant"] is blocked and done.returncode == (1 if blocked else 0), answer
    return lines


def person_reached_by_the_alert(run: Run) -> None:
    """What is held about the member who signed up and then received the alert."""
    shown = run.cli("personne", SIGNUP["telephone"]).stdout
    assert f"Données détenues pour le numéro {SIGNUP_NUMERO}" in shown, shown
    assert SIGNUP["nom"] in shown and "Inscriptions (registre) : 1" in shown
    held = json.loads(run.cli("personne", SIGNUP_NUMERO, "--json").stdout)
    assert held["numero"] == SIGNUP_NUMERO
    (row,) = held["inscriptions"]
    assert (row["nom"], row["source"], row["statut"]) == (
        SIGNUP["nom"], "formulaire", schema.ACTIF)
    assert row["confirme_le"]
    alert_id = _alert(run)["id"]
    received = [a for a in held["alertes_recues"] if a["alerte"] == alert_id]
    assert [(a["canal"], a["remise"]) for a in received] == [("whatsapp", "remis")], held


def suspend_and_resume(run: Run) -> None:
    """Limitation (`--suspendre`) then its end, with staff sorting and inserting rows in
    between: only the person's row changes."""
    others = _statuses(run, exclude=SIGNUP["nom"])
    run.staff("sort_rows", schema.INSCRIPTIONS, column="nom", reverse=True)
    done = run.cli("personne", SIGNUP["telephone"], "--suspendre").stdout
    assert "1 inscription(s) suspendue(s)" in done, done
    assert _signup(run)["statut"] == schema.SUSPENDU
    assert _statuses(run, exclude=SIGNUP["nom"]) == others
    run.staff("insert_rows", schema.INSCRIPTIONS, before=2, count=1)
    done = run.cli("personne", SIGNUP_NUMERO, "--reprendre").stdout
    assert "1 inscription(s) de nouveau active(s)" in done, done
    assert _signup(run)["statut"] == schema.ACTIF
    assert _statuses(run, exclude=SIGNUP["nom"]) == others


def purge(run: Run) -> None:
    """Retention periods: an unsubscribed member, a sign-up and an unsubscription request
    from the form never confirmed; the erased rows leave the sheet (deleteDimension). Staff
    type the unsubscription asked for by phone 32 days ago, only now (`nettoyer` applies it);
    time moves for the purge through the journal file (it saw the number unsubscribed 31 days
    ago)."""
    long_ago = format_french(now() - timedelta(days=40))
    run.staff("insert_rows", schema.INSCRIPTIONS, before=3, count=1, values=[_row(
        schema.INSCRIPTIONS, horodatage=long_ago, source=schema.SOURCE_FORMULAIRE,
        nom=STALE_SIGNUP, entreprise="Mercerie Vidal", commune="Langogne",
        telephone="06 77 88 99 00", consentement="oui")])
    run.staff("insert_rows", schema.DESINSCRIPTIONS, before=2, count=2, values=[
        _row(schema.DESINSCRIPTIONS, horodatage=long_ago, telephone="06 11 22 33 44",
             source=schema.SOURCE_FORMULAIRE),
        _row(schema.DESINSCRIPTIONS, horodatage=format_french(now() - timedelta(days=32)),
             telephone=UNSUBSCRIBED, source="saisie"),
    ])
    run.cli("nettoyer")  # applies the typed unsubscription
    assert _member(run, UNSUBSCRIBED)["statut"] == schema.DESINSCRIT
    _seen_unsubscribed_days_ago(run, parse_phone(UNSUBSCRIBED).numero, 31)
    before = {tab: run.rows(tab) for tab in (schema.INSCRIPTIONS, schema.DESINSCRIPTIONS)}
    simulated = run.cli("purger", "--simulation").stdout
    for expected in ("Simulation : rien n'a été effacé",
                     "Membres désinscrits (seraient effacés) : 1",
                     "Lignes d'Inscriptions : 2, dont 1 demande non confirmée",
                     "Lignes de Desinscriptions : 2, dont 1 non confirmée"):
        assert expected in simulated, simulated
    assert parse_phone(UNSUBSCRIBED).numero not in simulated, "numéro masqué"
    assert {tab: run.rows(tab) for tab in before} == before, "la simulation n'efface rien"
    run.staff("sort_rows", schema.INSCRIPTIONS, column="commune")
    heights = {tab: run.tabs()[tab]["row_count"] for tab in before}
    done = run.cli("purger").stdout
    assert "Lignes d'Inscriptions : 2, dont 1 demande non confirmée" in done, done
    members = run.rows(schema.INSCRIPTIONS)
    assert not [m for m in members if m["nom"] in (STALE_SIGNUP, "Bruno Fabre")]
    assert sorted(m["nom"] for m in members) == sorted(
        m["nom"] for m in before[schema.INSCRIPTIONS]
        if m["nom"] not in (STALE_SIGNUP, "Bruno Fabre"))
    assert run.rows(schema.DESINSCRIPTIONS) == []
    assert {tab: run.tabs()[tab]["row_count"] for tab in before} == {
        schema.INSCRIPTIONS: heights[schema.INSCRIPTIONS] - 2,
        schema.DESINSCRIPTIONS: heights[schema.DESINSCRIPTIONS] - 2}, "lignes supprimées"
    held = json.loads(run.cli("personne", UNSUBSCRIBED, "--json").stdout)
    assert held["inscriptions"] == [] and len(held["liste_de_suppression"]) == 1
    assert "Rien à effacer" in run.cli("purger").stdout


def stop_serving(run: Run) -> None:
    run.stop("servir")


def backup_and_restore(run: Run) -> None:
    header = [str(h) for h in run.tabs()[schema.ALERTES]["values"][0]]
    assert header[-1].startswith("✓ Envoi en marche (dernier passage "), header[-1]
    done = run.cli("sauvegarder", str(run.tmp / "archives"))
    (archive,) = (run.tmp / "archives").glob("alerte-message-*.tar.gz")
    assert "onglets de la feuille Google exportés" in done.stderr
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    elsewhere = run.tmp / "secours"
    env = {**run.env, "ALERTE_DOSSIER": str(elsewhere),
           "ALERTE_JOURNAL": str(elsewhere / "data" / "journal.sqlite"),
           "ALERTE_OUTBOX": str(elsewhere / "data" / "outbox.jsonl")}
    restored = subprocess.run([alerte_message_bin(), "restaurer", str(archive)], env=env,
                              text=True, capture_output=True, timeout=120, check=False)
    assert restored.returncode == 0, restored.stderr
    assert (elsewhere / "data" / "journal.sqlite").exists()
    exported = (elsewhere / "data" / "onglets-sauvegardes" / f"{schema.INSCRIPTIONS}.csv")
    lines = exported.read_text("utf-8").splitlines()
    assert lines[0].split(";") == list(schema.COLUMNS[schema.INSCRIPTIONS])
    assert sum(SIGNUP_NUMERO in line for line in lines) == 1
    again = subprocess.run([alerte_message_bin(), "restaurer", str(archive)], env=env,
                           text=True, capture_output=True, timeout=120, check=False)
    assert again.returncode == 1 and "Restauration refusée" in again.stderr


STEPS: list[tuple[str, Callable[[Run], None]]] = [
    ("initialiser une feuille vide", initialise_empty_sheet),
    ("importer les adhérents et les agents", import_members_and_officers),
    ("le personnel insère une ligne dans Inscriptions", staff_insert_row_in_inscriptions),
    ("inscription par le formulaire (servir)", sign_up_on_the_form),
    ("confirmation par le lien du message (surveiller)", confirm_from_the_message),
    ("une alerte importée, le personnel trie Alertes", staff_sort_alertes),
    ("diffusion par surveiller, statuts signés reçus par servir", alert_with_signed_statuses),
    ("exporter", export),
    ("diagnostic (registre Google, WhatsApp, site servi)", diagnostic),
    ("sauvegarder puis restaurer ailleurs", backup_and_restore),
    ("personne : un adhérent alerté", person_reached_by_the_alert),
    ("personne --suspendre puis --reprendre, le personnel trie et insère", suspend_and_resume),
    ("purger --simulation puis purger", purge),
    ("servir s'arrête", stop_serving),
]


# -- helpers of the steps -----------------------------------------------------------------------


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _signup(run: Run) -> dict[str, str]:
    (row,) = [r for r in run.rows(schema.INSCRIPTIONS) if r["source"] == "formulaire"]
    return row


def _statuses(run: Run, exclude: str) -> dict[str, str]:
    return {r["nom"]: r["statut"] for r in run.rows(schema.INSCRIPTIONS) if r["nom"] != exclude}


def _member(run: Run, telephone: str) -> dict[str, str]:
    (row,) = [r for r in run.rows(schema.INSCRIPTIONS) if r["telephone"] == telephone]
    return row


def _row(tab: str, **values: str) -> list[str]:
    """A row typed by staff, in the tab's column order."""
    return [values.get(column, "") for column in schema.COLUMNS[tab]]


def _seen_unsubscribed_days_ago(run: Run, numero: str, days: int) -> None:
    """Move time for the purge: the daily purge of `surveiller` first saw `numero`
    unsubscribed `days` ago (recorded in the journal file, as `purger` records it)."""
    settings = Settings.from_env(run.env)
    journal = JournalFile(settings.journal)
    digest = SuppressionList.load(settings, journal).digest(numero)
    first_seen(journal, [digest], (now() - timedelta(days=days)).timestamp())


def _alert(run: Run) -> dict[str, str]:
    (row,) = [r for r in run.rows(schema.ALERTES) if r["description"] != DRAFT]
    return row


@contextmanager
def running_world(tmp: Path) -> Iterator[Run]:
    site, templates = build_fixture_site(tmp)
    site_url = f"http://127.0.0.1:{free_port()}"
    with SheetsProcess(KEY) as sheets, EmulatorProcess() as wa:
        env = subprocess_env(
            tmp, KEY,
            GOOGLE_SHEETS_API_URL=sheets.base_url,
            ALERTE_CANAL="whatsapp",
            WHATSAPP_TOKEN=TOKEN,
            WHATSAPP_PHONE_NUMBER_ID=PHONE_ID,
            WHATSAPP_BUSINESS_ACCOUNT_ID=WABA_ID,
            WHATSAPP_API_URL=wa.base_url,
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
            ALERTE_SECRET=SECRET,
            ALERTE_SITE_URL=site_url,
            ALERTE_INTERVALLE="0.3",
        )
        run = Run(tmp, sheets, wa, env, site_url, site, templates)
        try:
            yield run
        finally:
            run.stop_all()


def test_google_register_end_to_end_through_the_command_line(tmp_path: Path) -> None:
    with running_world(tmp_path) as run:
        for name, step in STEPS:
            try:
                step(run)
                refused = run.sheets.refused()
                assert not refused, f"requêtes que Google refuserait : {refused}"
            except AssertionError as exc:
                raise AssertionError(f"étape « {name} » : {exc}") from exc
