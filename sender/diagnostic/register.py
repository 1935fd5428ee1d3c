"""Checks of the register: credentials, the sheet, its sharing, tabs and headers, `Modeles`,
the `Alertes`/`Habilitations` protections and the active officers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sender import schema
from sender.alerts.authority import protection_problem
from sender.config import Settings, is_loopback
from sender.diagnostic.local import production
from sender.diagnostic.report import Line, fail, local, ok, warn
from sender.errors import AlerteError
from sender.register.base import Register
from sender.register.factory import is_google_sheet, parse_sheet_key
from sender.register.protection import normalise_email, officer_emails
from sender.tables import Table
from sender.text import cell_text, fold, is_truthy

INIT = "lancer « alerte-message initialiser »"
T_CREDENTIALS = "Compte de service Google"
T_SHEET = "Registre"
T_SHARING = "Partage de la feuille"
T_TABS = "Onglets et colonnes"
T_TEMPLATES = "Onglet Modeles"
T_PROTECTION = "Protections Alertes et Habilitations"
T_OFFICERS = "Agents habilités"

GspreadFactory = Callable[[], Any]  # → a gspread.Client
# The diagnostic reads the sheet's sharing from Drive, besides the Sheets API.
DIAGNOSTIC_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",
                     "https://www.googleapis.com/auth/drive.metadata.readonly")
EDITOR_ROLES = ("owner", "writer", "organizer", "fileOrganizer")


@dataclass
class RegisterFacts:
    """What the other checks need from the register."""

    tables: dict[str, Table] = field(default_factory=dict)

    def template_rows(self) -> list[dict[str, str]]:
        table = self.tables.get(schema.MODELES)
        return [] if table is None else [row.values for row in table.rows]

    def active_members(self) -> int:
        table = self.tables.get(schema.INSCRIPTIONS)
        if table is None:
            return 0
        return sum(cell_text(r.get("statut")) == schema.ACTIF for r in table.rows)


def check(settings: Settings, gspread_client: GspreadFactory | None,
          facts: RegisterFacts) -> list[Line]:
    if is_google_sheet(settings.register):
        return _google(settings, gspread_client, facts)
    return _sqlite(settings, facts)


def _sqlite(settings: Settings, facts: RegisterFacts) -> list[Line]:
    path = Path(settings.register)
    if not path.exists():
        return [fail(T_SHEET, f"registre introuvable : {path.resolve()}",
                     f"{INIT} dans le dossier des données, ou régler ALERTE_REGISTRE")]
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=5)
        try:
            present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [fail(T_SHEET, f"{path} illisible ({exc})", "vérifier le fichier ALERTE_REGISTRE")]
    from sender.register.sqlite import SQLiteRegister

    lines = [ok(T_SHEET, f"SQLite {path.resolve()}")]
    with SQLiteRegister(path) as register:
        lines += _contents(settings, register, present, facts)
    lines.append(local(T_PROTECTION, "qui peut modifier le fichier peut saisir des alertes"))
    return lines


def _google(settings: Settings, factory: GspreadFactory | None,
            facts: RegisterFacts) -> list[Line]:
    key = parse_sheet_key(settings.register)
    if not key:
        return [fail(T_SHEET, "ALERTE_REGISTRE n'est pas une adresse de feuille lisible",
                     "copier l'adresse complète de la feuille Google")]
    account, line = _credentials(settings)
    lines = [line]
    if account is None:
        return lines
    try:
        from sender.register.sheets.endpoint import sheets_client

        client = factory() if factory else sheets_client(
            settings.credentials, settings.sheets_api, DIAGNOSTIC_SCOPES)
        spreadsheet = client.open_by_key(key)
        present = {ws.title for ws in spreadsheet.worksheets()}
    except Exception as exc:
        fix = f"partager la feuille avec {account} comme éditeur" if account else \
            f"vérifier GOOGLE_SHEETS_API_URL ({settings.sheets_api}) et la clé de la feuille"
        return [*lines, fail(T_SHEET, f"la feuille ne s'ouvre pas ({_google_reason(exc)})", fix)]
    lines.append(ok(T_SHEET, f"feuille « {spreadsheet.title} » ouverte"))
    lines.append(_sharing(spreadsheet, account))
    from sender.register.sheets.client import GoogleSheetsRegister

    register = GoogleSheetsRegister(key, client, max_attempts=2, timeout=10)
    lines += _contents(settings, register, present, facts)
    lines.append(_protections(register, facts))
    return lines


def _credentials(settings: Settings) -> tuple[str | None, Line]:
    """The service account's e-mail ("" when no key is needed: a loopback
    GOOGLE_SHEETS_API_URL), or None when the checks of the sheet cannot go on."""
    path = settings.credentials
    if not path and is_loopback(settings.sheets_api):
        return "", ok(T_CREDENTIALS, f"aucune clé : GOOGLE_SHEETS_API_URL "
                      f"({settings.sheets_api}) est une adresse locale, qui n'en demande pas")
    if not path:
        return None, fail(T_CREDENTIALS, "GOOGLE_APPLICATION_CREDENTIALS n'est pas défini",
                          "indiquer le chemin de la clé JSON du compte de service")
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        account = normalise_email(str(data["client_email"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = "introuvable ou illisible" if isinstance(exc, OSError) else "pas une clé valide"
        return None, fail(T_CREDENTIALS, f"{path} : {reason}",
                          "télécharger la clé JSON du compte de service (console Google Cloud) "
                          "et la rendre lisible par le compte du service")
    return account, ok(T_CREDENTIALS, f"{account} ({path})")


def _google_reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    if code == 404:
        return "feuille inconnue (404)"
    if code == 403 or isinstance(exc, PermissionError):
        return "accès refusé (403)"
    return f"{type(exc).__name__}{f' HTTP {code}' if code else ''}"


def _sharing(spreadsheet: Any, account: str) -> Line:
    try:
        permissions = spreadsheet.list_permissions()
    except Exception as exc:
        text = str(exc)
        if "Drive API" in text or "accessNotConfigured" in text:
            return warn(T_SHARING, "l'API Google Drive n'est pas activée : partage non vérifié",
                        "activer l'API Google Drive dans le projet du compte de service")
        return warn(T_SHARING, f"partage illisible ({_google_reason(exc)})",
                    "vérifier à la main que le compte de service est éditeur")
    roles = {normalise_email(p.get("emailAddress", "")): p.get("role") for p in permissions
             if p.get("type") == "user" and not p.get("deleted")}
    if not account:
        editors = sorted(e for e, r in roles.items() if r in EDITOR_ROLES)
        return local(T_SHARING, f"sans clé, pas de compte de service à chercher ; "
                     f"éditeurs : {', '.join(editors) or 'aucun'}")
    role = roles.get(account)
    if role in EDITOR_ROLES:
        return ok(T_SHARING, f"{account} est {'propriétaire' if role == 'owner' else 'éditeur'}")
    found = f"seulement {role}" if role else "absent du partage"
    return fail(T_SHARING, f"{account} : {found}",
                f"Partager la feuille avec {account} en « Éditeur »")


def _contents(settings: Settings, register: Register, present: set[str],
              facts: RegisterFacts) -> list[Line]:
    try:
        facts.tables = register.read(schema.TABS)
    except AlerteError as exc:
        return [fail(T_TABS, exc.message, INIT)]
    return [_tabs(present, facts.tables), _templates(settings, facts.tables),
            _officers(settings, facts.tables)]


def _tabs(present: set[str], tables: dict[str, Table]) -> Line:
    lower = {fold(name) for name in present}
    missing_tabs = [tab for tab in schema.TABS if fold(tab) not in lower]
    if missing_tabs:
        return fail(T_TABS, f"onglet(s) manquant(s) : {', '.join(missing_tabs)}", INIT)
    missing = [f"{tab} : {', '.join(c for c in cols if c not in tables[tab].headers)}"
               for tab, cols in schema.COLUMNS.items()
               if any(c not in tables[tab].headers for c in cols)]
    if missing:
        return fail(T_TABS, "colonne(s) manquante(s) — " + " ; ".join(missing), INIT)
    return ok(T_TABS, f"{len(schema.TABS)} onglets, en-têtes complets")


def channels_in_use(settings: Settings) -> list[str]:
    """The `canal` values of `Modeles` the sender will look up."""
    if settings.channel == "whatsapp":
        return ["whatsapp", "sms"] if settings.sms_api_key and settings.sms_fallback \
            else ["whatsapp"]
    return ["sms"]  # the outbox writes the SMS text


def _templates(settings: Settings, tables: dict[str, Table]) -> Line:
    rows = [row.values for row in tables[schema.MODELES].rows]
    have = {(cell_text(r.get("type")).lower(), cell_text(r.get("canal")).lower()) for r in rows
            if cell_text(r.get("texte"))}
    missing = [f"{kind} ({canal})" for canal in channels_in_use(settings)
               for kind in schema.ALERT_TYPES if (kind, canal) not in have]
    if missing and not rows:
        return fail(T_TEMPLATES, "onglet vide : toute alerte finirait en « erreur »",
                    f"{INIT} : il y écrit les modèles par défaut")
    if missing:
        return fail(T_TEMPLATES, f"aucun modèle pour : {', '.join(missing)}",
                    "ajouter ces lignes dans Modeles (type, canal, texte)")
    return ok(T_TEMPLATES, f"un modèle par type d'alerte ({', '.join(channels_in_use(settings))})")


def _officers(settings: Settings, tables: dict[str, Table]) -> Line:
    rows = [row.values for row in tables[schema.HABILITATIONS].rows]
    active = [r for r in rows if cell_text(r.get("identifiant")) and
              is_truthy(cell_text(r.get("actif")))]
    if not active and not production(settings):
        return local(T_OFFICERS, "aucun agent actif : en ajouter dans Habilitations pour "
                     "essayer une alerte")
    if not active:
        return fail(T_OFFICERS, "aucun agent actif dans Habilitations : aucune alerte ne partira",
                    "ajouter les agents (identifiant, service, actif = oui, email)")
    if not is_google_sheet(settings.register):
        return ok(T_OFFICERS, f"{len(active)} agent(s) actif(s)")
    with_email = officer_emails(rows)
    without = len(active) - len(with_email)
    if without:
        return warn(T_OFFICERS, f"{len(active)} agent(s) actif(s), {without} sans e-mail Google",
                    "saisir leur e-mail puis relancer « alerte-message initialiser » : sans "
                    "lui, ils ne peuvent pas écrire dans Alertes")
    return ok(T_OFFICERS, f"{len(active)} agent(s) actif(s), tous avec un e-mail")


def _protections(register: Register, facts: RegisterFacts) -> Line:
    try:
        protections = register.protections() or {}
    except AlerteError as exc:
        return fail(T_PROTECTION, exc.message, INIT)
    officers = officer_emails(row.values for row in facts.tables[schema.HABILITATIONS].rows)
    problem = protection_problem(protections, officers)
    if problem:
        return fail(T_PROTECTION, problem, INIT)
    return ok(T_PROTECTION, "Alertes : agents actifs seulement ; Habilitations : la CMA")
