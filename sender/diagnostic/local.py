"""Checks of this machine: data folder, secret, site address, disk, journal, clock (pure
reads of the local files; the clock uses the `Date` of the services' answers)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from collections.abc import Mapping
from urllib.parse import urlsplit

from sender.config import DEFAULT_SITE_URL, Settings
from sender.consent.tokens import load_secret
from sender.diagnostic.report import Line, fail, local, ok, warn
from sender.errors import ConfigurationError
from sender.register.factory import is_google_sheet

MAX_SKEW = 30.0  # seconds: beyond, the one-hour rule and the webhooks' times are wrong
WARN_SKEW = 5.0
MIN_FREE = 200 * 1024**2  # bytes: below, the journal may fill the disk in a large dispatch
LOW_FREE = 1024**3


def production(settings: Settings) -> bool:
    """Real services are configured (a Google sheet or a real channel)."""
    return settings.channel != "outbox" or is_google_sheet(settings.register)


def data_folder(settings: Settings) -> Line:
    title = "Dossier des données"
    folder = settings.journal.parent.resolve()
    if not folder.exists():
        return warn(title, f"{folder} n'existe pas encore",
                    "lancer « alerte-message initialiser » pour le créer")
    mode = folder.stat().st_mode
    writable = os.access(folder, os.W_OK | os.X_OK)
    if not writable:
        return fail(title, f"{folder} n'est pas modifiable par ce compte",
                    f"donner le dossier au compte du service (chown) : « chmod 700 {folder} »")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return warn(title, f"{folder} est lisible par d'autres comptes "
                    f"(droits {stat.filemode(mode)})", f"« chmod 700 {folder} »")
    return ok(title, f"{folder}, privé (700) et modifiable")


def secret(settings: Settings) -> Line:
    title = "Secret des liens de confirmation"
    if settings.secret:
        try:
            load_secret(settings)
        except ConfigurationError as exc:
            return fail(title, exc.message, "définir un ALERTE_SECRET d'au moins 32 caractères")
        return ok(title, "ALERTE_SECRET défini")
    path = settings.secret_path
    if not path.exists():
        detail = f"{path} sera créé au premier démarrage"
        if production(settings):
            return warn(title, detail, "le sauvegarder ensuite avec les données, ou définir "
                        "ALERTE_SECRET : s'il change, les liens envoyés ne marchent plus")
        return local(title, detail)
    try:
        load_secret(settings)
    except ConfigurationError as exc:
        return fail(title, exc.message, f"« chmod 600 {path} » ou définir ALERTE_SECRET")
    return ok(title, f"fichier {path} privé (600)")


def site_address(settings: Settings) -> Line:
    title = "Adresse publique (ALERTE_SITE_URL)"
    url = settings.site_url
    if url == DEFAULT_SITE_URL and not production(settings):
        return local(title, f"{url}")
    host = (urlsplit(url).hostname or "").lower()
    if url.startswith("https://"):
        return ok(title, url)
    if host in ("127.0.0.1", "localhost", "::1"):
        return fail(title, f"{url} : adresse locale, les liens des messages n'ouvriront rien",
                    "indiquer l'adresse HTTPS du site dans ALERTE_SITE_URL")
    return fail(title, f"{url} n'est pas en HTTPS",
                "mettre le site derrière le proxy TLS et écrire https://… dans ALERTE_SITE_URL")


def disk(settings: Settings) -> Line:
    title = "Espace disque"
    folder = settings.journal.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    text = f"{free / 1024**3:.1f} Go libres ({folder.resolve()})"
    if free < MIN_FREE:
        return fail(title, text, "libérer de la place : un envoi écrit une ligne par adhérent")
    if free < LOW_FREE:
        return warn(title, text, "prévoir de la place (1 Go conseillé)")
    return ok(title, text)


def journal(settings: Settings) -> Line:
    title = "Journal des envois"
    path = settings.journal
    if not path.exists():
        return ok(title, f"{path} pas encore créé (il le sera au premier envoi)")
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=5)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return fail(title, f"{path} illisible ({exc})",
                    "restaurer la dernière sauvegarde du dossier des données")
    if not result or result[0] != "ok":
        return fail(title, f"{path} abîmé ({result[0] if result else '?'})",
                    "arrêter le service et restaurer la dernière sauvegarde")
    return ok(title, f"{path} intègre (quick_check)")


def clock(skews: Mapping[str, float]) -> Line:
    title = "Horloge du serveur"
    if not skews:
        return local(title, "aucun service en ligne à qui comparer l'heure")
    service, skew = max(skews.items(), key=lambda item: abs(item[1]))
    text = f"écart {skew:+.0f} s avec {service}" + (
        f" (et {len(skews) - 1} autre(s) service(s))" if len(skews) > 1 else "")
    fix = "activer la synchronisation de l'heure (« timedatectl set-ntp true ») : la règle " \
        "de l'heure et les statuts en dépendent"
    if abs(skew) > MAX_SKEW:
        return fail(title, text, fix)
    if abs(skew) > WARN_SKEW:
        return warn(title, text, fix)
    return ok(title, text)
