"""Checks of the WhatsApp Business account through the Graph API: the token and the phone
number, the templates `Modeles` uses, the app's subscription to the account's webhooks."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sender import schema
from sender.channels.graph import messaging_limit, phone_number_url
from sender.config import Settings
from sender.diagnostic.probe import Answer, Probe, ProbeError
from sender.diagnostic.report import Line, fail, local, ok, warn
from sender.register.defaults import WHATSAPP_BODIES
from sender.text import cell_text

T_NUMBER = "WhatsApp : jeton et numéro"
T_TEMPLATES = "WhatsApp : modèles approuvés"
T_WEBHOOKS = "WhatsApp : abonnement aux webhooks"
SERVICE = "l'API WhatsApp"
TEMPLATE_FIELDS = "name,status,language,category,parameter_format,components"
MAX_TEMPLATE_PAGES = 20
_PARAMETER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_LINE_NAME = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*:")


@dataclass
class Account:
    """What the Graph API said (for the checks that need it afterwards)."""

    phone: dict[str, Any] = field(default_factory=dict)
    templates: list[dict[str, Any]] | None = None
    error: Line | None = None


def _headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.whatsapp_token}"}


def _graph_problem(title: str, answer: Answer, settings: Settings) -> Line:
    body = answer.json()
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = error.get("code") if isinstance(error, dict) else None
    if code == 190:
        return fail(title, "jeton refusé par Meta (erreur 190 : expiré ou invalide)",
                    "créer un jeton permanent d'utilisateur système (Business Manager) et le "
                    "mettre dans WHATSAPP_TOKEN")
    if code in (100, 33) or answer.status == 404:
        return fail(title, f"identifiant inconnu de Meta (erreur {code or answer.status})",
                    "vérifier WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_BUSINESS_ACCOUNT_ID et "
                    "WHATSAPP_API_URL")
    if code in (10, 200):
        return fail(title, f"permission manquante (erreur {code})",
                    "donner au jeton les permissions whatsapp_business_messaging et "
                    "whatsapp_business_management")
    return fail(title, f"réponse inattendue de Meta (HTTP {answer.status}, code {code})",
                "réessayer ; si cela dure, vérifier WHATSAPP_API_URL")


def fetch(settings: Settings, probe: Probe) -> Account:
    """The phone number and the templates (paged), as the Graph API gives them."""
    account = Account()
    base = settings.whatsapp_api
    try:
        answer = probe.get(phone_number_url(base, settings.whatsapp_phone_id or ""),
                           SERVICE, _headers(settings))
        if answer.status != 200 or not isinstance(answer.json(), dict):
            account.error = _graph_problem(T_NUMBER, answer, settings)
            return account
        account.phone = answer.json()
        if settings.whatsapp_business_id:
            account.templates = _templates(settings, probe)
    except ProbeError as exc:
        account.error = fail(T_NUMBER, str(exc), "vérifier WHATSAPP_API_URL et le réseau")
    return account


def _templates(settings: Settings, probe: Probe) -> list[dict[str, Any]] | None:
    query = urlencode({"fields": TEMPLATE_FIELDS, "limit": 100})
    url: str | None = f"{settings.whatsapp_api}/{settings.whatsapp_business_id}/" \
        f"message_templates?{query}"
    found: list[dict[str, Any]] = []
    for _page in range(MAX_TEMPLATE_PAGES):
        if url is None:
            return found
        answer = probe.get(url, SERVICE, _headers(settings))
        body = answer.json()
        if answer.status != 200 or not isinstance(body, dict):
            return None
        found += [t for t in body.get("data", []) if isinstance(t, dict)]
        paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
        url = paging.get("next") if isinstance(paging.get("next"), str) else None
        if url and not url.startswith(settings.whatsapp_api):
            # Meta's `next` names graph.facebook.com: keep the configured address instead.
            url = settings.whatsapp_api + "/" + url.split("/", 4)[-1]
    return found


def number(settings: Settings, account: Account) -> Line:
    if settings.channel != "whatsapp":
        return local(T_NUMBER, f"canal {settings.channel}, WhatsApp non utilisé")
    if account.error is not None:
        return account.error
    phone = account.phone
    quality = str(phone.get("quality_rating") or "UNKNOWN")
    limit = messaging_limit(phone) or "?"
    throughput = (phone.get("throughput") or {}).get("level", "?") \
        if isinstance(phone.get("throughput"), dict) else "?"
    detail = (f"{phone.get('display_phone_number', '?')} « {phone.get('verified_name', '?')} », "
              f"qualité {quality}, plafond {limit}, débit {throughput}")
    if str(phone.get("code_verification_status") or "VERIFIED") not in ("VERIFIED",):
        return fail(T_NUMBER, detail + f", numéro {phone.get('code_verification_status')}",
                    "vérifier le numéro dans le WhatsApp Manager")
    if str(phone.get("name_status") or "APPROVED") not in ("APPROVED", "AVAILABLE_WITHOUT_REVIEW"):
        return warn(T_NUMBER, detail + f", nom affiché {phone.get('name_status')}",
                    "faire approuver le nom affiché dans le WhatsApp Manager")
    if quality == "RED":
        return fail(T_NUMBER, detail, "qualité rouge : Meta va baisser le plafond ; limiter "
                    "les envois et vérifier que les adhérents ont bien demandé les alertes")
    if quality == "YELLOW":
        return warn(T_NUMBER, detail, "qualité moyenne : surveiller les blocages et signalements")
    return ok(T_NUMBER, detail)


def expected_templates(rows: Sequence[Mapping[str, str]]) -> dict[tuple[str, str], set[str]]:
    """(template, language) → the named parameters the `Modeles` tab fills."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        if cell_text(row.get("canal")).lower() != "whatsapp":
            continue
        name = cell_text(row.get("modele_whatsapp"))
        if not name:
            continue
        names = {m.group(1) for line in cell_text(row.get("texte")).splitlines()
                 if (m := _LINE_NAME.match(line)) and not line.strip().startswith("#")}
        wanted.setdefault((name, cell_text(row.get("langue")) or "fr"), set()).update(names)
    return wanted


def _body(template: Mapping[str, Any]) -> str:
    for component in template.get("components") or []:
        if isinstance(component, dict) and str(component.get("type")).upper() == "BODY":
            return str(component.get("text") or "")
    return ""


def template_problems(found: list[dict[str, Any]],
                      wanted: dict[tuple[str, str], set[str]]) -> list[str]:
    """French problems of the templates `Modeles` uses (pure)."""
    index = {(str(t.get("name")), str(t.get("language"))): t for t in found}
    problems = []
    for (name, language), parameters in sorted(wanted.items()):
        template = index.get((name, language))
        if template is None:
            problems.append(f"{name} ({language}) n'existe pas chez Meta")
            continue
        if template.get("status") != "APPROVED":
            problems.append(f"{name} est {template.get('status')} (pas APPROVED)")
        if str(template.get("category")).upper() != "UTILITY":
            problems.append(f"{name} est en catégorie {template.get('category')} (UTILITY "
                            "attendue : une alerte n'est pas du marketing)")
        body = _body(template)
        have = set(_PARAMETER.findall(body))
        if have != parameters:
            problems.append(f"{name} : paramètres {', '.join(sorted(have)) or 'aucun'} chez "
                            f"Meta, {', '.join(sorted(parameters))} dans Modeles")
        documented = WHATSAPP_BODIES.get(name)
        if documented is not None and body.strip() != documented.strip():
            problems.append(f"{name} : le texte approuvé diffère du texte documenté "
                            "(docs/production.md)")
    return problems


def templates(settings: Settings, account: Account,
              rows: Sequence[Mapping[str, str]]) -> Line:
    if settings.channel != "whatsapp":
        return local(T_TEMPLATES, "WhatsApp non utilisé")
    if account.error is not None:
        return fail(T_TEMPLATES, "non vérifiés : le compte ne répond pas", account.error.fix)
    if not settings.whatsapp_business_id:
        return fail(T_TEMPLATES, "WHATSAPP_BUSINESS_ACCOUNT_ID n'est pas défini",
                    "indiquer l'identifiant du compte WhatsApp Business (WhatsApp Manager)")
    if account.templates is None:
        return fail(T_TEMPLATES, "liste des modèles illisible",
                    "vérifier WHATSAPP_BUSINESS_ACCOUNT_ID et les permissions du jeton")
    wanted = expected_templates(rows)
    if not wanted:
        return fail(T_TEMPLATES, f"aucun modèle WhatsApp dans l'onglet {schema.MODELES}",
                    "lancer « alerte-message initialiser »")
    problems = template_problems(account.templates, wanted)
    if problems:
        return fail(T_TEMPLATES, " ; ".join(problems),
                    "soumettre les modèles de docs/production.md (catégorie Utilité, langue fr) "
                    "et attendre leur approbation")
    names = sorted({name for name, _ in wanted})
    return ok(T_TEMPLATES, f"{', '.join(names)} : fr, APPROVED, UTILITY, paramètres et texte "
              "conformes")


def webhooks(settings: Settings, probe: Probe) -> Line:
    if settings.channel != "whatsapp":
        return local(T_WEBHOOKS, "WhatsApp non utilisé")
    if not settings.whatsapp_business_id:
        return fail(T_WEBHOOKS, "WHATSAPP_BUSINESS_ACCOUNT_ID n'est pas défini",
                    "l'indiquer pour vérifier l'abonnement")
    url = f"{settings.whatsapp_api}/{settings.whatsapp_business_id}/subscribed_apps"
    try:
        answer = probe.get(url, SERVICE, _headers(settings))
    except ProbeError as exc:
        return fail(T_WEBHOOKS, str(exc), "vérifier WHATSAPP_API_URL et le réseau")
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict):
        return _graph_problem(T_WEBHOOKS, answer, settings)
    apps = [a.get("whatsapp_business_api_data", {}).get("name", "?")
            for a in body.get("data", []) if isinstance(a, dict)]
    if not apps:
        return fail(T_WEBHOOKS, "aucune application abonnée : les statuts et les « STOP » "
                    "n'arriveront pas", f"POST {settings.whatsapp_business_id}/subscribed_apps "
                    "avec le jeton (docs/production.md)")
    if not settings.whatsapp_app_secret:
        return warn(T_WEBHOOKS, f"abonnée : {', '.join(apps)}, mais WHATSAPP_APP_SECRET "
                    "n'est pas défini", "définir WHATSAPP_APP_SECRET et WHATSAPP_VERIFY_TOKEN")
    return ok(T_WEBHOOKS, f"application abonnée : {', '.join(apps)}")
