"""Message composition from the `Modeles` tab: SMS/outbox text and WhatsApp template parameters.

Templates are untrusted and run in the sandbox of `sandbox.py`; any problem becomes a
`TemplateProblem` naming the type and canal, in French.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError

from sender.alerts.model import Alert, normalise_sequel, normalise_type
from sender.alerts.sandbox import MAX_OUTPUT, Refused, TooLong, compile_template, render
from sender.channels.base import OutgoingMessage
from sender.channels.smslength import (
    MAX_ALERT_PARTS,
    SmsSize,
    sms_size,
    stop_code,
    straight_apostrophes,
)
from sender.channels.whatsapp import clean_parameter
from sender.errors import AlerteError
from sender.schema import SEQUEL_TYPES
from sender.text import cell_text, day, day_and_hour, fold, hour, one_line, sentence

MAX_VALUE = 2000  # characters of one context value

_PARAMETER_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,59}$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_SPACES = re.compile(r"[ \t\r\f\v]+")


class TemplateProblem(AlerteError):
    """A `Modeles` row cannot produce a message; `message` says what to fix, in French.

    `officer_text` is True when the officer's own text is the problem (an SMS too long): the
    alert is then « refusée » rather than « erreur »."""

    def __init__(
        self, message: str, *, alert_type: str = "", canal: str = "", officer_text: bool = False
    ) -> None:
        super().__init__(message)
        self.alert_type = alert_type
        self.canal = canal
        self.officer_text = officer_text


@dataclass(frozen=True, slots=True)
class ComposedMessage:
    """One alert rendered for one channel, the same for every recipient."""

    channel: str
    text: str
    template: str | None = None
    language: str = "fr"
    parameters: Mapping[str, str] = field(default_factory=dict)
    sms: SmsSize = field(default_factory=lambda: sms_size(""))

    def to_message(self, alert_id: str, numero: str) -> OutgoingMessage:
        return OutgoingMessage(
            alert_id=alert_id,
            numero=numero,
            text=self.text,
            template=self.template,
            language=self.language,
            parameters=dict(self.parameters),
        )


# -- the context -----------------------------------------------------------------------------


def template_context(alert: Alert) -> dict[str, str]:
    """The variables a template sees, always all defined (documented in register/defaults.py)."""
    faits = alert.faits_le
    values = {
        "id": alert.id,
        "type": alert.type_label,
        "precision": alert.precision_label,
        "commune": alert.commune_name,
        "lieu": alert.lieu,
        "faits_le": day_and_hour(faits) if faits else "",
        "faits_date": day(faits) if faits else "",
        "faits_heure": hour(faits) if faits else "",
        "description": sentence(alert.description),
        "auteurs": alert.auteurs,
        "vehicule": alert.vehicule,
        "service": alert.service,
        "origine_le": alert.origine_le,
        "origine": alert.origine,
    }
    return {name: one_line(cell_text(value))[:MAX_VALUE] for name, value in values.items()}


def _tidy(text: str) -> str:
    """Single spaces inside lines, no trailing spaces, at most one blank line in a row."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip()


def _check_sms(text: str, size: SmsSize, alert_type: str) -> None:
    """An alert SMS never carries a STOP code and has at most `MAX_ALERT_PARTS` parts."""
    mention = stop_code(text)
    if mention:
        raise TemplateProblem(
            f"Modèle « {alert_type} » / sms : le texte contient « {one_line(mention)} ». Une "
            "mention STOP fait traiter le SMS comme publicitaire (retenu la nuit et le "
            "dimanche) : la retirer de l'onglet Modeles.",
            alert_type=alert_type,
            canal="sms",
        )
    if size.segments > MAX_ALERT_PARTS:
        raise TemplateProblem(
            f"Le SMS de cette alerte ferait {size.segments} parties ({size.describe()}), "
            f"{MAX_ALERT_PARTS} au plus : raccourcir la description, les auteurs ou le véhicule"
            + (
                " (un seul caractère comme ê, ç ou « fait passer tout le SMS à 70 "
                "caractères par partie)."
                if size.encoding == "UCS-2"
                else "."
            ),
            alert_type=alert_type,
            canal="sms",
            officer_text=True,
        )


# -- the composer ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    type: str  # alert type, or "*" for a fallback row
    canal: str
    template_name: str
    language: str
    source: str


def _canal(text: str) -> str:
    return fold(text).replace(" ", "")


class Composer:
    """Renders alerts with the `Modeles` rows; a type-specific row wins over a « * » row."""

    def __init__(self, template_rows: Iterable[Mapping[str, object]]) -> None:
        self.rows: dict[tuple[str, str], _Row] = {}
        self._compiled: dict[tuple[str, str], Any] = {}
        for row in template_rows:
            typed = cell_text(row.get("type"))
            alert_type = (
                "*" if typed in ("", "*") else normalise_sequel(typed) or normalise_type(typed)
            )
            canal = _canal(cell_text(row.get("canal"))[:20])
            if alert_type is None:
                continue  # a type that matches no alert type is never used
            self.rows.setdefault(
                (alert_type, canal),
                _Row(
                    alert_type,
                    canal,
                    cell_text(row.get("modele_whatsapp"))[:600],
                    cell_text(row.get("langue"))[:20] or "fr",
                    cell_text(row.get("texte")),
                ),
            )

    def compose(self, alert: Alert, channel: str) -> ComposedMessage:
        """Render `alert` for "whatsapp", "sms" or "outbox" (which uses the SMS text)."""
        channel = _canal(channel)
        if channel not in ("whatsapp", "sms", "outbox"):
            raise ValueError(f"canal inconnu : {channel!r}")
        canal = "whatsapp" if channel == "whatsapp" else "sms"
        row = self.rows.get((alert.type, canal))
        if row is None and alert.type not in SEQUEL_TYPES:  # a « * » row is an alert's text
            row = self.rows.get(("*", canal))
        if row is None:
            raise TemplateProblem(
                f"Aucun modèle pour le type « {alert.type} » et le canal {canal} : ajouter une "
                f"ligne dans l'onglet Modeles (type « {alert.type} » ou « * », canal "
                f"« {canal} »).",
                alert_type=alert.type,
                canal=canal,
            )
        context = template_context(alert)
        if canal == "whatsapp":
            return self._whatsapp(row, alert.type, context)
        text = self._run(row, alert.type, canal, row.source, context, MAX_OUTPUT)
        text = straight_apostrophes(_tidy(text))  # stays GSM-7 (docs/architecture.md)
        if not text:
            raise self._problem(alert.type, canal, "le texte produit est vide")
        size = sms_size(text)
        if channel == "sms":
            _check_sms(text, size, alert.type)
        return ComposedMessage(channel, text, None, row.language, {}, size)

    # -- internals ------------------------------------------------------------------------------

    def _whatsapp(self, row: _Row, alert_type: str, context: Mapping[str, str]) -> ComposedMessage:
        if not row.template_name:
            raise self._problem(
                alert_type, "whatsapp",
                "colonne « modele_whatsapp » vide : indiquer le nom du modèle approuvé par Meta",
            )
        if not _TEMPLATE_NAME.match(row.template_name):
            raise self._problem(
                alert_type, "whatsapp",
                f"nom de modèle WhatsApp « {one_line(row.template_name)[:60]} » invalide "
                "(minuscules, chiffres et _ seulement)",
            )
        if not _LANGUAGE.match(row.language):
            raise self._problem(
                alert_type, "whatsapp",
                f"langue « {one_line(row.language)[:20]} » invalide (ex. fr ou fr_FR)",
            )
        parameters: dict[str, str] = {}
        for number, line in enumerate(row.source.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            name, colon, expression = stripped.partition(":")
            name = name.strip()
            if not colon or not _PARAMETER_NAME.match(name):
                raise self._problem(
                    alert_type, "whatsapp",
                    f"ligne {number} « {one_line(stripped)[:40]} » : attendu « nom: expression », "
                    "le nom en minuscules, chiffres et _",
                )
            if name in parameters:
                raise self._problem(
                    alert_type, "whatsapp", f"ligne {number} : paramètre « {name} » en double"
                )
            value = self._run(
                row, alert_type, "whatsapp", expression.strip(), context, MAX_OUTPUT,
                line_offset=number - 1, key=name,
            )
            parameters[name] = clean_parameter(value)
        if not parameters:
            raise self._problem(
                alert_type, "whatsapp",
                "aucun paramètre : écrire une ligne « nom: expression » par paramètre du modèle",
            )
        text = "\n".join(
            f"{name.replace('_', ' ').capitalize()} : {value}" for name, value in parameters.items()
        )
        return ComposedMessage(
            "whatsapp", text, row.template_name, row.language, parameters, sms_size(text)
        )

    def _run(
        self,
        row: _Row,
        alert_type: str,
        canal: str,
        source: str,
        context: Mapping[str, str],
        limit: int,
        *,
        line_offset: int = 0,
        key: str = "",
    ) -> str:
        cache_key = (f"{row.type}/{row.canal}", key)
        try:
            template = self._compiled.get(cache_key)
            if template is None:
                template = compile_template(source)
                self._compiled[cache_key] = template
            return render(template, context, limit)
        except TemplateSyntaxError as exc:
            line = (exc.lineno or 1) + line_offset
            raise self._problem(
                alert_type, canal,
                f"erreur de syntaxe ligne {line} ({one_line(exc.message or '')[:120]})",
            ) from None
        except Refused as exc:
            where = f"ligne {exc.lineno + line_offset} : " if exc.lineno else ""
            raise self._problem(alert_type, canal, where + exc.detail) from None
        except TooLong:
            raise self._problem(
                alert_type, canal, f"texte produit trop long (plus de {limit} caractères)"
            ) from None
        except UndefinedError as exc:
            raise self._problem(
                alert_type, canal, f"variable non définie ({one_line(str(exc))[:80]})"
            ) from None
        except SecurityError as exc:
            raise self._problem(
                alert_type, canal, f"opération interdite ({one_line(str(exc))[:80]})"
            ) from None
        except RecursionError:
            raise self._problem(
                alert_type, canal, "modèle trop complexe (parenthèses ou conditions imbriquées)"
            ) from None
        except Exception as exc:  # a filter given bad arguments…
            raise self._problem(
                alert_type, canal,
                f"erreur à l'exécution ({type(exc).__name__}) : vérifier les filtres et leurs "
                "paramètres",
            ) from None

    @staticmethod
    def _problem(alert_type: str, canal: str, detail: str) -> TemplateProblem:
        return TemplateProblem(
            f"Modèle « {alert_type} » / {canal} : {detail}. Corriger l'onglet Modeles.",
            alert_type=alert_type,
            canal=canal,
        )
