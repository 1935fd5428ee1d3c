"""Message composition from the `Modeles` tab: SMS/outbox text and WhatsApp template parameters.

Templates are typed by CMA staff in a spreadsheet, so they are treated as untrusted code:

1. Before compiling, the Jinja syntax tree is checked against a whitelist: text, the documented
   variables, constants, a few string filters, tests, `{% if %}`, `and/or/not`, comparisons and
   `~`. No attribute or item access (`''.__class__`, `self._TemplateReference__context`), no calls
   (`range`, `lipsum`, `cycler`), no loops, assignments, macros, includes or arithmetic — so a
   template's work is bounded by its own length and cannot reach Python objects.
2. It is then compiled by a `SandboxedEnvironment` with no globals, no attribute access and every
   operator refused (a second wall should the first one have a gap).
3. Undefined variables raise (`StrictUndefined`): every documented variable is always defined
   (empty text when the cell was empty), so an unknown name is a typo in `Modeles` that must be
   fixed rather than a silent blank in a message sent to 900 shopkeepers.
4. Output is produced chunk by chunk and stopped beyond `MAX_OUTPUT` characters; filters that
   could grow text (`replace`) check the size first.

Any problem becomes a `TemplateProblem` naming the type and canal, in French.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from sender.alerts._text import clean, day, day_and_hour, fold, hour, one_line
from sender.alerts.model import Alert, normalise_type
from sender.channels.base import OutgoingMessage
from sender.errors import AlerteError
from sender.smstext import SmsSize, sms_size

MAX_OUTPUT = 4000  # characters of a rendered text (SMS) or of one rendered parameter
MAX_PARAMETER = 1024  # WhatsApp limit for one body parameter
MAX_SOURCE = 10_000  # characters of a `texte` cell
MAX_VALUE = 2000  # characters of one context value
MAX_INTERMEDIATE = 20_000  # size a filter may produce
EMPTY_PARAMETER = "-"

VARIABLES = (
    "id", "type", "precision", "commune", "lieu", "faits_le", "faits_date", "faits_heure",
    "description", "auteurs", "vehicule", "service",
)
_PARAMETER_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,59}$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_SPACES = re.compile(r"[ \t\r\f\v]+")


class TemplateProblem(AlerteError):
    """A `Modeles` row cannot produce a message; `message` says what to fix, in French."""

    def __init__(self, message: str, *, alert_type: str = "", canal: str = "") -> None:
        super().__init__(message)
        self.alert_type = alert_type
        self.canal = canal


@dataclass(frozen=True, slots=True)
class ComposedMessage:
    """One alert rendered for one channel, the same for every recipient."""

    channel: str
    text: str
    template: str | None = None
    language: str = "fr"
    parameters: Mapping[str, str] = field(default_factory=dict)
    sms: SmsSize = field(default_factory=lambda: sms_size(""))

    def to_message(self, alert_id: str, recipient: str) -> OutgoingMessage:
        return OutgoingMessage(
            alert_id=alert_id,
            recipient=recipient,
            text=self.text,
            template=self.template,
            language=self.language,
            parameters=dict(self.parameters),
        )


# -- filters and tests offered to templates ----------------------------------------------------


class _Refused(Exception):
    """A template asked for something the whitelist forbids (French detail, line number)."""

    def __init__(self, detail: str, lineno: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.lineno = lineno


class _TooLong(Exception):
    pass


def _count(number: int) -> str:
    return f"{number:,}".replace(",", "\u00a0")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _default(value: Any, fallback: Any = "", boolean: bool = True) -> Any:
    """Like Jinja's `default`, but an empty cell counts as missing unless boolean=false."""
    return fallback if (not value if boolean else value is None) else value


def _truncate(value: Any, length: int = 160, end: str = "…") -> str:
    text = _text(value)
    length = max(1, min(int(length), MAX_INTERMEDIATE))
    if len(text) <= length:
        return text
    cut = text[: max(0, length - len(end))]
    space = cut.rfind(" ")
    if space > len(cut) - 20:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + _text(end)


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = _text(value), _text(old), _text(new)
    if not old:
        raise SecurityError("filtre replace : le texte à remplacer est vide")
    occurrences = text.count(old) if count is None else min(text.count(old), max(0, int(count)))
    if len(text) + occurrences * max(0, len(new) - len(old)) > MAX_INTERMEDIATE:
        raise _TooLong
    return text.replace(old, new, -1 if count is None else max(0, int(count)))


def _phrase(value: Any) -> str:
    """End a sentence with a full stop unless it already ends with . ! ? or …"""
    text = _text(value).strip()
    return text if not text or text[-1] in ".!?…" else text + "."


_FILTERS = {
    "upper": lambda v: _text(v).upper(),
    "lower": lambda v: _text(v).lower(),
    "capitalize": lambda v: _text(v)[:1].upper() + _text(v)[1:],
    "title": lambda v: _text(v).title(),
    "trim": lambda v: _text(v).strip(),
    "length": lambda v: len(v) if isinstance(v, str | tuple | list) else len(_text(v)),
    "first": lambda v: _text(v)[:1],
    "last": lambda v: _text(v)[-1:],
    "wordcount": lambda v: len(_text(v).split()),
    "string": _text,
    "default": _default,
    "d": _default,
    "truncate": _truncate,
    "replace": _replace,
    "phrase": _phrase,
}
_TESTS = ("defined", "undefined", "none", "string", "number", "eq", "ne", "equalto", "in",
          "lower", "upper", "lt", "gt", "le", "ge")
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name, nodes.If,
    nodes.CondExpr, nodes.Filter, nodes.Test, nodes.And, nodes.Or, nodes.Not, nodes.Compare,
    nodes.Operand, nodes.Concat, nodes.Keyword, nodes.Tuple, nodes.List,
)
_NODE_NAMES = {  # what an officer reads for a refused construction
    nodes.For: "boucle {% for %} interdite",
    nodes.Macro: "macro interdite",
    nodes.CallBlock: "bloc {% call %} interdit",
    nodes.Call: "appel de fonction interdit",
    nodes.Getitem: "accès à un élément [ ] interdit",
    nodes.Assign: "affectation {% set %} interdite",
    nodes.AssignBlock: "affectation {% set %} interdite",
    nodes.Include: "inclusion {% include %} interdite",
    nodes.Import: "import interdit",
    nodes.FromImport: "import interdit",
    nodes.Extends: "héritage {% extends %} interdit",
    nodes.Block: "bloc {% block %} interdit",
    nodes.BinExpr: "calcul interdit",
    nodes.UnaryExpr: "calcul interdit",
    nodes.With: "bloc {% with %} interdit",
    nodes.FilterBlock: "bloc {% filter %} interdit",
    nodes.Dict: "dictionnaire interdit",
    nodes.Slice: "découpage [:] interdit",
}
_ALLOWED_HELP = (
    "seuls le texte, les variables ({{ description }}), les filtres simples et {% if %} sont "
    "permis"
)


class _Sandbox(SandboxedEnvironment):
    """No globals, no attribute access, no operators: see the module docstring."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"opérateur {operator} interdit")

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        raise SecurityError(f"opérateur {operator} interdit")


def _environment() -> _Sandbox:
    env = _Sandbox(autoescape=False, undefined=StrictUndefined, auto_reload=False, cache_size=0)
    env.globals.clear()
    env.filters = dict(_FILTERS)
    env.tests = {name: env.tests[name] for name in _TESTS if name in env.tests}
    return env


_ENV = _environment()


def _check_tree(tree: nodes.Node) -> None:
    """Raise `_Refused` for the first node outside the whitelist."""
    for node in tree.find_all(nodes.Node):
        lineno = getattr(node, "lineno", None)
        if not isinstance(node, _ALLOWED_NODES):
            if isinstance(node, nodes.Getattr):
                shown = f"accès à l'attribut « .{one_line(str(node.attr))[:40]} » interdit"
            else:
                shown = next(
                    (text for kind, text in _NODE_NAMES.items() if isinstance(node, kind)),
                    f"construction « {type(node).__name__} » interdite",
                )
            raise _Refused(f"{shown} : {_ALLOWED_HELP}", lineno)
        if isinstance(node, nodes.Name) and (node.ctx != "load" or node.name not in VARIABLES):
            raise _Refused(
                f"variable inconnue « {node.name[:40]} » (variables permises : "
                f"{', '.join(VARIABLES)})",
                lineno,
            )
        if isinstance(node, nodes.Filter | nodes.Test):
            table = _FILTERS if isinstance(node, nodes.Filter) else _ENV.tests
            if node.name not in table or node.dyn_args is not None or node.dyn_kwargs is not None:
                kind = "filtre" if isinstance(node, nodes.Filter) else "test"
                raise _Refused(
                    f"{kind} « {node.name[:40]} » non autorisé (permis : {', '.join(table)})",
                    lineno,
                )


def _compile(source: str) -> Any:
    """Check and compile one template; raises `_Refused`, `TemplateSyntaxError`, `_TooLong`."""
    if len(source) > MAX_SOURCE:
        raise _Refused(
            f"texte du modèle trop long ({_count(len(source))} caractères, "
            f"{_count(MAX_SOURCE)} au plus)"
        )
    _check_tree(_ENV.parse(source))
    return _ENV.from_string(source)


def _render(template: Any, context: Mapping[str, str], limit: int = MAX_OUTPUT) -> str:
    size = 0
    chunks: list[str] = []
    for chunk in template.generate(context):
        size += len(chunk)
        if size > limit:
            raise _TooLong
        chunks.append(chunk)
    return "".join(chunks)


# -- the context -----------------------------------------------------------------------------


def template_context(alert: Alert) -> dict[str, str]:
    """The variables a template sees (documented in sender/defaults.py); always all defined."""
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
        "description": alert.description,
        "auteurs": alert.auteurs,
        "vehicule": alert.vehicule,
        "service": alert.service,
    }
    return {name: one_line(clean(value))[:MAX_VALUE] for name, value in values.items()}


def clean_parameter(value: str) -> str:
    """A WhatsApp body parameter: one line, single spaces, at most 1024 characters, never empty."""
    text = one_line(value)
    if len(text) > MAX_PARAMETER:
        text = text[: MAX_PARAMETER - 1].rstrip() + "…"
    return text or EMPTY_PARAMETER


def _tidy(text: str) -> str:
    """Single spaces inside lines, no trailing spaces, at most one blank line in a row."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip()


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
        self.unused: list[str] = []  # types typed in Modeles that match no alert type
        self._compiled: dict[tuple[str, str], Any] = {}
        for row in template_rows:
            typed = clean(row.get("type"))
            alert_type = "*" if typed in ("", "*") else normalise_type(typed)
            canal = _canal(clean(row.get("canal"))[:20])
            if alert_type is None:
                self.unused.append(typed[:40])
                continue
            self.rows.setdefault(
                (alert_type, canal),
                _Row(
                    alert_type,
                    canal,
                    clean(row.get("modele_whatsapp"))[:600],
                    clean(row.get("langue"))[:20] or "fr",
                    clean(row.get("texte")),
                ),
            )

    def compose(self, alert: Alert, channel: str) -> ComposedMessage:
        """Render `alert` for "whatsapp", "sms" or "outbox" (which uses the SMS text)."""
        channel = _canal(channel)
        if channel not in ("whatsapp", "sms", "outbox"):
            raise ValueError(f"canal inconnu : {channel!r}")
        canal = "whatsapp" if channel == "whatsapp" else "sms"
        row = self.rows.get((alert.type, canal)) or self.rows.get(("*", canal))
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
        text = _tidy(text)
        if not text:
            raise self._problem(alert.type, canal, "le texte produit est vide")
        return ComposedMessage(channel, text, None, row.language, {}, sms_size(text))

    def check(self, alerts: Iterable[Alert]) -> list[TemplateProblem]:
        """Compose each sample alert on both canals; every problem found (for `verifier`)."""
        problems: list[TemplateProblem] = []
        for alert in alerts:
            for channel in ("sms", "whatsapp"):
                try:
                    self.compose(alert, channel)
                except TemplateProblem as problem:
                    problems.append(problem)
        return problems

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
                template = _compile(source)
                self._compiled[cache_key] = template
            return _render(template, context, limit)
        except TemplateSyntaxError as exc:
            line = (exc.lineno or 1) + line_offset
            raise self._problem(
                alert_type, canal,
                f"erreur de syntaxe ligne {line} ({one_line(exc.message or '')[:120]})",
            ) from None
        except _Refused as exc:
            where = f"ligne {exc.lineno + line_offset} : " if exc.lineno else ""
            raise self._problem(alert_type, canal, where + exc.detail) from None
        except _TooLong:
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
