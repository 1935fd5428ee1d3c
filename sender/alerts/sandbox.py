"""The sandbox for staff-typed `Modeles` templates: whitelist, environment, bounded rendering.

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

`compile_template` raises `Refused`, `TooLong` or Jinja's errors; `compose.py` turns them into a
French `TemplateProblem`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from sender.text import one_line, thousands

MAX_OUTPUT = 4000  # characters of a rendered text (SMS) or of one rendered parameter
MAX_SOURCE = 10_000  # characters of a `texte` cell
MAX_INTERMEDIATE = 20_000  # size a filter may produce

VARIABLES = (
    "id", "type", "precision", "commune", "lieu", "faits_le", "faits_date", "faits_heure",
    "description", "auteurs", "vehicule", "service", "origine_le", "origine",
)


class Refused(Exception):
    """A template asked for something the whitelist forbids (French detail, line number)."""

    def __init__(self, detail: str, lineno: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.lineno = lineno


class TooLong(Exception):
    """A rendered text, or a filter's result, would exceed its size limit."""


# -- filters and tests offered to templates ----------------------------------------------------



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
        raise TooLong
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

# -- the syntax-tree whitelist ---------------------------------------------------------------

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
    """Raise `Refused` for the first node outside the whitelist."""
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
            raise Refused(f"{shown} : {_ALLOWED_HELP}", lineno)
        if isinstance(node, nodes.Name) and (node.ctx != "load" or node.name not in VARIABLES):
            raise Refused(
                f"variable inconnue « {node.name[:40]} » (variables permises : "
                f"{', '.join(VARIABLES)})",
                lineno,
            )
        if isinstance(node, nodes.Filter | nodes.Test):
            table = _FILTERS if isinstance(node, nodes.Filter) else _ENV.tests
            if node.name not in table or node.dyn_args is not None or node.dyn_kwargs is not None:
                kind = "filtre" if isinstance(node, nodes.Filter) else "test"
                raise Refused(
                    f"{kind} « {node.name[:40]} » non autorisé (permis : {', '.join(table)})",
                    lineno,
                )


# -- compiling and rendering -----------------------------------------------------------------


def compile_template(source: str) -> Any:
    """Check and compile one template; raises `Refused`, `TemplateSyntaxError`, `TooLong`."""
    if len(source) > MAX_SOURCE:
        raise Refused(
            f"texte du modèle trop long ({thousands(len(source))} caractères, "
            f"{thousands(MAX_SOURCE)} au plus)"
        )
    _check_tree(_ENV.parse(source))
    return _ENV.from_string(source)


def render(template: Any, context: Mapping[str, str], limit: int = MAX_OUTPUT) -> str:
    """Render chunk by chunk; raises `TooLong` as soon as the text exceeds `limit`."""
    size = 0
    chunks: list[str] = []
    for chunk in template.generate(context):
        size += len(chunk)
        if size > limit:
            raise TooLong
        chunks.append(chunk)
    return "".join(chunks)
