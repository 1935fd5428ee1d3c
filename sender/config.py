"""Settings, read from the environment only (secrets never live in the repository)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sender.costs import DEFAULT_SMS_PART_RATE, DEFAULT_WHATSAPP_RATE, Rates
from sender.errors import ConfigurationError
from sender.limits import (
    DEFAULT_CONFIRMATIONS_PER_DAY,
    DEFAULT_SMS_PARTS_PER_MONTH,
    FRENCH_REGIONS,
    Limits,
)

# Relative to the home folder (ALERTE_DOSSIER, the current folder by default).
DEFAULT_REGISTER = "data/registre.sqlite"
DEFAULT_JOURNAL = "data/journal.sqlite"
DEFAULT_OUTBOX = "data/outbox.jsonl"
DEFAULT_STATISTICS = "data/statistiques.json"
# Graph API v25.0: released 2026-02-18, available until 2028-07-29 (docs/architecture.md).
WHATSAPP_API = "https://graph.facebook.com/v25.0"
BREVO_SMS_API = "https://api.brevo.com/v3/transactionalSMS/send"
GOOGLE_SHEETS_API = "https://sheets.googleapis.com"
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
# An idle poll is one Sheets request: every 10 s is 6 a minute, a tenth of the per-user quota.
DEFAULT_POLL_SECONDS = 10.0


# How long personal data is kept (the data notice states these very values, see
# sender/privacy/retention.py and sender/website/blocks.py).
DEFAULT_UNSUBSCRIBED_DAYS = 30
DEFAULT_REQUESTS_DAYS = 30
DEFAULT_TRACES_MONTHS = 12


@dataclass(frozen=True)
class Retention:
    """Retention periods: days after an unsubscription, days after an unconfirmed request
    expired, months of per-recipient send traces."""

    unsubscribed_days: int = DEFAULT_UNSUBSCRIBED_DAYS
    requests_days: int = DEFAULT_REQUESTS_DAYS
    traces_months: int = DEFAULT_TRACES_MONTHS


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw.replace(",", "."))
    except ValueError as exc:
        raise ConfigurationError(f"{name} doit être un nombre (reçu « {raw} »).") from exc
    if value < minimum:
        raise ConfigurationError(f"{name} doit valoir au moins {minimum:g} (reçu « {raw} »).")
    return value


def _site_url(env: Mapping[str, str]) -> str:
    raw = env.get("ALERTE_SITE_URL", "").strip().rstrip("/")
    if not raw:
        return DEFAULT_SITE_URL
    if not raw.startswith(("http://", "https://")) or "://" not in raw or " " in raw:
        raise ConfigurationError(
            f"ALERTE_SITE_URL doit être l'adresse du site, par exemple "
            f"https://alerte-message.cma-lozere.fr (reçu « {raw} »)."
        )
    return raw


def _home(env: Mapping[str, str]) -> Path:
    raw = env.get("ALERTE_DOSSIER", "").strip()
    home = Path(raw).expanduser() if raw else Path.cwd()
    if raw and home.exists() and not home.is_dir():
        raise ConfigurationError(f"ALERTE_DOSSIER doit être un dossier (reçu « {raw} »).")
    return home.absolute()


def _under(home: Path, raw: str) -> Path:
    """`raw` as is when absolute, else under the home folder."""
    path = Path(raw).expanduser()
    return path if path.is_absolute() else home / path


_SHEET_KEY = re.compile(r"[A-Za-z0-9_-]{30,}")


def is_google_sheet(spec: str) -> bool:
    """A sheet URL or a bare sheet key (long, no dot, no slash) names a Google Sheet."""
    return "docs.google.com/spreadsheets" in spec or bool(_SHEET_KEY.fullmatch(spec.strip()))


def _register(env: Mapping[str, str], home: Path) -> str:
    """A Google sheet's address or key as given; a SQLite file under the home folder."""
    raw = env.get("ALERTE_REGISTRE", "").strip() or DEFAULT_REGISTER
    return raw if is_google_sheet(raw) else str(_under(home, raw))


def _ping_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("ALERTE_PING_URL", "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")) or " " in raw:
        raise ConfigurationError(
            "ALERTE_PING_URL doit être l'adresse de ping d'un service de surveillance, par "
            f"exemple https://hc-ping.com/… (reçu « {raw} »)."
        )
    return raw.rstrip("/")


def public_number(raw: str) -> str | None:
    """The network's WhatsApp number as wa.me wants it (international digits, no + nor 00)."""
    text = raw.strip()
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("00"):
        digits = digits[2:]
    elif not text.startswith("+"):
        raise ConfigurationError(
            "WHATSAPP_NUMERO_PUBLIC doit être le numéro WhatsApp du réseau au format "
            f"international, par exemple +33 4 66 00 00 00 (reçu « {text} »)."
        )
    if not 8 <= len(digits) <= 15 or digits.startswith("0"):
        raise ConfigurationError(
            f"WHATSAPP_NUMERO_PUBLIC n'est pas un numéro international valable (reçu « {text} »)."
        )
    return digits


def _trusted_proxy(env: Mapping[str, str]) -> str | None:
    raw = env.get("ALERTE_PROXY_DE_CONFIANCE", "").strip()
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw.strip("[]")))
    except ValueError as exc:
        raise ConfigurationError(
            "ALERTE_PROXY_DE_CONFIANCE doit être l'adresse IP du proxy inverse tel que le "
            f"serveur le voit, par exemple 127.0.0.1 (reçu « {raw} »)."
        ) from exc


def is_loopback(url: str) -> bool:
    """The URL's host is this machine (`localhost`, 127.0.0.0/8, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sheets_api(env: Mapping[str, str]) -> str:
    """GOOGLE_SHEETS_API_URL: plain HTTP only towards this machine (the local emulator)."""
    raw = env.get("GOOGLE_SHEETS_API_URL", "").strip().rstrip("/")
    if not raw:
        return GOOGLE_SHEETS_API
    secure = raw.startswith("https://") or (raw.startswith("http://") and is_loopback(raw))
    if not secure or " " in raw or not urlsplit(raw).hostname:
        raise ConfigurationError(
            "GOOGLE_SHEETS_API_URL doit être une adresse https:// (http:// seulement vers "
            f"cette machine, 127.0.0.1), par exemple {GOOGLE_SHEETS_API} (reçu « {raw} »)."
        )
    return raw


@dataclass(frozen=True)
class Settings:
    home: Path = Path(".")  # ALERTE_DOSSIER: every relative path below is under it
    register: str = DEFAULT_REGISTER
    credentials: str | None = None
    journal: Path = Path(DEFAULT_JOURNAL)
    channel: str = "outbox"
    outbox: Path = Path(DEFAULT_OUTBOX)
    poll_seconds: float = DEFAULT_POLL_SECONDS
    stale_hours: float = 48.0
    whatsapp_token: str | None = field(default=None, repr=False)
    whatsapp_phone_id: str | None = None
    whatsapp_api: str = WHATSAPP_API
    whatsapp_app_secret: str | None = field(default=None, repr=False)
    whatsapp_verify_token: str | None = field(default=None, repr=False)
    status_wait: float = 120.0
    rate_per_second: float = 80.0
    concurrency: int = 32
    daily_limit: int = 250
    over_limit_policy: str = "reporter"  # or "sms"
    sms_api_key: str | None = field(default=None, repr=False)
    sms_api: str = BREVO_SMS_API
    sms_sender: str = "AlerteMsg"
    sms_fallback: bool = True
    http_timeout: float = 10.0
    max_attempts: int = 5
    form_posts_per_minute: int = 10
    site_url: str = DEFAULT_SITE_URL  # where the confirmation links point
    secret: str | None = field(default=None, repr=False)  # signs the confirmation links
    confirmation_days: float = 7.0
    trusted_proxy: str | None = None  # the reverse proxy whose X-Forwarded-For is believed
    connections_per_address: int = 20  # open connections to `servir` per client address; 0: any
    rates: Rates = field(default_factory=Rates)  # indicative prices, for estimated costs
    sheets_api: str = GOOGLE_SHEETS_API  # where the Google register's requests go
    ping_url: str | None = None  # ALERTE_PING_URL: push pings of an uptime monitor
    statistics: Path = Path(DEFAULT_STATISTICS)  # the public figures the site build reads
    limits: Limits = field(default_factory=Limits)  # budgets, SMS ceiling, countries
    whatsapp_numero_public: str | None = None  # the network's number as people dial it (digits)
    retention: Retention = field(default_factory=Retention)  # what is kept how long
    whatsapp_business_id: str | None = None  # the WhatsApp Business Account (templates, webhooks)
    # WHATSAPP_PLAFOND_JOURNALIER unset: the daily cap is the messaging limit Meta reports
    # (`daily_limit` until Meta has answered); set, it overrides Meta's.
    daily_limit_from_meta: bool = False

    @property
    def data_dir(self) -> Path:
        """The folder of the journal, the phone memo, the secret and the heartbeat file."""
        return self.journal.parent

    @property
    def webhooks(self) -> bool:
        """Status webhooks are configured (the app secret that signs them is known)."""
        return bool(self.whatsapp_app_secret)

    @property
    def reverse_confirmation(self) -> bool:
        """People confirm by writing to the network's WhatsApp number (no outbound message)."""
        return self.channel == "whatsapp" and bool(self.whatsapp_numero_public)

    @property
    def phone_cache_path(self) -> Path:
        """The memo of cleaned numbers (`PhoneCache`), beside the journal."""
        return self.journal.with_name("numeros.sqlite")

    @property
    def secret_path(self) -> Path:
        """Where the link-signing secret is generated when ALERTE_SECRET is not set."""
        return self.journal.with_name("secret.key")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        channel = env.get("ALERTE_CANAL", "outbox").strip().lower() or "outbox"
        if channel not in ("outbox", "whatsapp", "sms"):
            raise ConfigurationError(
                f"ALERTE_CANAL doit valoir outbox, whatsapp ou sms (reçu « {channel} »)."
            )
        policy = env.get("ALERTE_DEPASSEMENT", "reporter").strip().lower() or "reporter"
        if policy not in ("reporter", "sms"):
            raise ConfigurationError(
                f"ALERTE_DEPASSEMENT doit valoir reporter ou sms (reçu « {policy} »)."
            )
        home = _home(env)
        return cls(
            home=home,
            register=_register(env, home),
            credentials=env.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
            journal=_under(home, env.get("ALERTE_JOURNAL", "").strip() or DEFAULT_JOURNAL),
            channel=channel,
            outbox=_under(home, env.get("ALERTE_OUTBOX", "").strip() or DEFAULT_OUTBOX),
            poll_seconds=_number(env, "ALERTE_INTERVALLE", DEFAULT_POLL_SECONDS, 0.05),
            stale_hours=_number(env, "ALERTE_PEREMPTION_HEURES", 48.0, 0),
            whatsapp_token=env.get("WHATSAPP_TOKEN") or None,
            whatsapp_phone_id=env.get("WHATSAPP_PHONE_NUMBER_ID") or None,
            whatsapp_api=(env.get("WHATSAPP_API_URL") or WHATSAPP_API).rstrip("/"),
            whatsapp_app_secret=env.get("WHATSAPP_APP_SECRET") or None,
            whatsapp_verify_token=env.get("WHATSAPP_VERIFY_TOKEN") or None,
            status_wait=_number(env, "ALERTE_ATTENTE_STATUT", 120.0, 0),
            rate_per_second=_number(env, "ALERTE_DEBIT", 80.0, 0.1),
            concurrency=int(_number(env, "ALERTE_CONCURRENCE", 32, 1)),
            daily_limit=int(_number(env, "WHATSAPP_PLAFOND_JOURNALIER", 250, 1)),
            over_limit_policy=policy,
            sms_api_key=env.get("SMS_API_KEY") or None,
            sms_api=(env.get("SMS_API_URL") or BREVO_SMS_API).rstrip("/"),
            sms_sender=env.get("SMS_EXPEDITEUR", "AlerteMsg").strip() or "AlerteMsg",
            sms_fallback=env.get("ALERTE_SMS_SECOURS", "oui").strip().lower()
            not in ("non", "0", "false", "no"),
            http_timeout=_number(env, "ALERTE_DELAI_HTTP", 10.0, 0.1),
            max_attempts=int(_number(env, "ALERTE_TENTATIVES", 5, 1)),
            form_posts_per_minute=int(_number(env, "ALERTE_FORMULAIRE_PAR_MINUTE", 10, 1)),
            site_url=_site_url(env),
            secret=env.get("ALERTE_SECRET") or None,
            confirmation_days=_number(env, "ALERTE_CONFIRMATION_JOURS", 7.0, 0.01),
            trusted_proxy=_trusted_proxy(env),
            connections_per_address=int(_number(env, "ALERTE_CONNEXIONS_PAR_ADRESSE", 20, 0)),
            rates=Rates(
                whatsapp_template=_number(env, "ALERTE_TARIF_WHATSAPP", DEFAULT_WHATSAPP_RATE),
                sms_part=_number(env, "ALERTE_TARIF_SMS", DEFAULT_SMS_PART_RATE),
            ),
            sheets_api=_sheets_api(env),
            ping_url=_ping_url(env),
            statistics=_under(
                home, env.get("ALERTE_STATISTIQUES", "").strip() or DEFAULT_STATISTICS
            ),
            limits=_limits(env),
            whatsapp_numero_public=public_number(env.get("WHATSAPP_NUMERO_PUBLIC", "")),
            retention=Retention(
                unsubscribed_days=int(_number(
                    env, "ALERTE_CONSERVATION_DESINSCRITS", DEFAULT_UNSUBSCRIBED_DAYS, 1)),
                requests_days=int(_number(
                    env, "ALERTE_CONSERVATION_DEMANDES", DEFAULT_REQUESTS_DAYS, 1)),
                traces_months=int(_number(
                    env, "ALERTE_CONSERVATION_TRACES", DEFAULT_TRACES_MONTHS, 1)),
            ),
            whatsapp_business_id=env.get("WHATSAPP_BUSINESS_ACCOUNT_ID", "").strip() or None,
            daily_limit_from_meta=not env.get("WHATSAPP_PLAFOND_JOURNALIER", "").strip(),
        )


# -- budgets (`limits.py`) ------------------------------------------------------------------


def _limits(env: Mapping[str, str]) -> Limits:
    return Limits(
        countries=countries(env.get("ALERTE_PAYS", "")),
        confirmations_per_day=_whole(env, "ALERTE_BUDGET_CONFIRMATIONS",
                                     DEFAULT_CONFIRMATIONS_PER_DAY),
        sms_parts_per_month=_whole(env, "ALERTE_PLAFOND_SMS_MOIS", DEFAULT_SMS_PARTS_PER_MONTH),
        sms_alerts_blocked=_alerts_policy(env.get("ALERTE_PLAFOND_SMS_ALERTES", "")),
    )


def countries(raw: str) -> tuple[str, ...]:
    """`ALERTE_PAYS`: region codes (ISO 3166, as phonenumbers names them) separated by commas
    or spaces; empty: the French operators' regions."""
    import phonenumbers

    codes = [c.upper() for c in raw.replace(",", " ").split()]
    if not codes:
        return FRENCH_REGIONS
    unknown = [c for c in codes if c not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise ConfigurationError(
            "ALERTE_PAYS contient des codes de pays inconnus : " + ", ".join(unknown)
            + " (attendu : des codes à deux lettres comme FR, RE, GP, séparés par des virgules)."
        )
    return tuple(dict.fromkeys(codes))


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    digits = raw.replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if not digits.isascii() or not digits.isdigit():
        raise ConfigurationError(
            f"{name} doit être un nombre entier positif ou nul (reçu « {raw} »)."
        )
    return int(digits)


def _alerts_policy(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "envoyer"):
        return False
    if value == "bloquer":
        return True
    raise ConfigurationError(
        f"ALERTE_PLAFOND_SMS_ALERTES doit valoir envoyer ou bloquer (reçu « {raw.strip()} »)."
    )
