"""Issue 15 codemod: one word per idea. Run from the repository root; safe to run again.

    python scripts/rename_issue15.py          # rewrite the files
    python scripts/rename_issue15.py --check  # list what would change, exit 1 if anything

Python files: every rule of kind "code" rewrites identifiers only (strings and comments are
left alone, except the `{…}` expressions of f-strings), so SQL text, JSON keys and French
messages keep their words. Rules of kind "text" apply to the whole file (docstrings, Markdown).
Each rule is word-boundary safe and maps an old name to a new one the old pattern no longer
matches, so a second run changes nothing.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOTS = ("sender", "tests", "bench", "support", "scripts")
DOCS = ("docs", "README.md", "bench/README.md", "apps-script")
SELF = Path(__file__).resolve()


@dataclass(frozen=True)
class Rule:
    pattern: str
    new: str
    kind: str = "code"  # "code": identifiers of Python files; "text": anywhere in the file;
    # "sql": inside the SQL strings of Python files (not docstrings, not a lone word)
    where: Callable[[str, str], bool] = lambda path, text: True  # (posix path, file text)


def under(*prefixes: str) -> Callable[[str, str], bool]:
    return lambda path, text: path.startswith(prefixes)


def not_under(*prefixes: str) -> Callable[[str, str], bool]:
    return lambda path, text: not path.startswith(prefixes)


_TEXT_IMPORT = re.compile(r"from sender\.text import (\([^)]*\)|[^\n]*)")


def imports_text_clean(path: str, text: str) -> bool:
    """The file is `sender/text.py` or imports `clean` from it."""
    if path == "sender/text.py":
        return True
    return any(re.search(r"\bclean\b", m.group(1)) for m in _TEXT_IMPORT.finditer(text))


def uses_cycle_block(path: str, text: str) -> bool:
    return "def block(plans" in text or bool(
        re.search(r"from sender\.cycle import (\([^)]*\bblock\b[^)]*\)|[^\n]*\bblock\b)", text)
    )


# Test files where every `number` / `NUMBER` holds an E.164 number.
_E164_NUMBER_FILES = frozenset({
    "tests/test_browser.py", "tests/test_consent_whatsapp.py", "tests/test_channels_sms.py",
    "tests/test_consent_flow.py", "tests/test_channels_whatsapp.py",
})

RULES: tuple[Rule, ...] = (
    # cycle.block refuses plans whose authority is not proven.
    Rule(r"(?<![.\w])block\b", "refuse_plans", where=uses_cycle_block),
    # dispatcher._count counts a settled recipient into the report and says whether it was.
    Rule(r"(?<![.\w])_count\b", "_count_if_settled", where=under("sender/dispatch/")),
    # Journal.check / JournalFile.check / DeliveryStore.check open (creating if need be).
    Rule(r"\bdef check\(self\)", "def open_or_create(self)",
         where=under("sender/journal/", "sender/delivery/")),
    Rule(r"\b(journal|store|_file|Journal\([^()]*\)|DeliveryStore\([^()]*\))\.check\(\)",
         r"\1.open_or_create()"),
    Rule(r"\b(Journal|JournalFile|DeliveryStore)\.check\b", r"\1.open_or_create", kind="text"),
    # Verdict.verdict / AlertPlan.verdict: the status the row should get.
    Rule(r"\.verdict\b", ".status"),
    Rule(r"\bshown_verdict\b", "shown_status"),
    Rule(r"^(\s+)verdict: str\b", r"\1status: str",
         where=lambda p, t: p in ("sender/alerts/model.py", "sender/cycle.py")),
    Rule(r"\b(Verdict|AlertPlan)\.verdict\b", r"\1.status", kind="text"),
    Rule(r"(?<![.\w])verdict\b", "status",
         where=lambda p, t: p.startswith("sender/cli/") and "verdict = plan.shown_" in t),
    Rule(r"`verdict` is « à diffuser »", "`status` is « à diffuser »", kind="text"),
    # Journal.unrecorded / DeliveryStore.unrecorded meant two different things.
    Rule(r"\b_unrecorded_lock\b", "_held_lock", where=under("sender/journal/")),
    Rule(r"\b_unrecorded\b", "_held_in_memory", where=under("sender/journal/")),
    Rule(r"\bdef unrecorded\(self\) -> int", "def results_held_in_memory(self) -> int"),
    Rule(r"\bdef unrecorded\(self, kinds", "def messages_not_in_register(self, kinds"),
    Rule(r"\.unrecorded\(", ".messages_not_in_register("),
    Rule(r"\.unrecorded\b(?!\()", ".results_held_in_memory", where=not_under("bench/")),
    Rule(r"\bJournal\.unrecorded\b", "Journal.results_held_in_memory", kind="text"),
    Rule(r"\bDeliveryStore\.unrecorded\b", "DeliveryStore.messages_not_in_register",
         kind="text"),
    # "clean": text.clean → cell_text; clean_phone → parse_phone; cleaning/ cleans the register.
    Rule(r"(?<![.\w])clean\b(?!\(self)", "cell_text", where=imports_text_clean),
    Rule(r"\btext\.clean\b", "text.cell_text", kind="text"),
    Rule(r"\bclean_phone\b", "parse_phone", kind="text"),
    Rule(r"\bPhoneCleaner\b", "PhoneParser", kind="text"),
    # The E.164 number is `numero` (the register's column) in code. The JSON keys of the
    # outbox file and of the emulated APIs (Brevo, Meta) are strings: they keep their names.
    Rule(r"\brecipient\b", "numero"),
    Rule(r'"recipient": numero\b', '"numero": numero', kind="text",
         where=lambda p, t: p == "tests/test_channels_whatsapp.py"),  # OutgoingMessage(**fields)
    Rule(r"\bNUMBER\b", "NUMERO", where=lambda p, t: p in _E164_NUMBER_FILES),
    Rule(r"\bnumber\b", "numero", where=lambda p, t: p in _E164_NUMBER_FILES),
    # Lists of E.164 numbers are `numeros` (`AlertPlan.recipients` stays: members; the
    # report's `recipients` stays: the count of the `destinataires` cell).
    Rule(r"(?<![.\w])recipients\b(?!=)", "numeros",
         where=lambda p, t: p in ("sender/journal/journal.py", "sender/dispatch/dispatcher.py",
                                  "sender/runner.py")),
    Rule(r"`Dispatcher\.dispatch\(alert_id, recipients, compose\)`",
         "`Dispatcher.dispatch(alert_id, numeros, compose)`", kind="text"),
    # The journal's column too: format 3 renames `envois.recipient` (sender/journal/file.py).
    Rule(r"\brecipient\b(?! TO numero)", "numero", kind="sql",
         where=under("sender/journal/", "sender/delivery/")),
    # Alert's target columns are `cible_*`, like its other column-named fields.
    Rule(r"\btarget_zone\b", "cible_zone", kind="text"),
    Rule(r"\btarget_communes\b", "cible_communes", kind="text"),
    Rule(r"\btarget_activities\b", "cible_activites", kind="text"),
    # `reason` for what ends up in the `motif` cell → `motif`.
    Rule(r"\bstopped_reason\b", "stopped_motif", kind="text"),
    Rule(r"\bpaused_reason\b", "paused_motif", kind="text"),
    Rule(r"\bfailure_reasons\b", "failure_motifs", kind="text"),
    Rule(r"\bstop_reason\b", "stop_motif", kind="text"),
    Rule(r"\bLEASE_LOST_REASON\b", "LEASE_LOST_MOTIF", kind="text"),
    Rule(r"\bstop\.reason\b", "stop.motif", where=under("sender/dispatch/")),
    Rule(r"(class _Stop:\n[^\n]*\n(?:[^\n]*\n)*?\s+)reason: str", r"\1motif: str",
         kind="text", where=under("sender/dispatch/")),
    Rule(r"\bdef add_failure\(self, reason: str \| None\) -> None:\n(\s+)text = reason or",
         r"def add_failure(self, motif: str | None) -> None:\n\1text = motif or", kind="text"),
    # Lines the longer names push over 100 characters.
    Rule(r"^def _count_if_settled\(report: DispatchReport, entry: JournalEntry \| None, "
         r"decision: Decision\) -> bool:$",
         "def _count_if_settled(\n    report: DispatchReport, entry: JournalEntry | None, "
         "decision: Decision\n) -> bool:", kind="text"),
    Rule(r"^(\s+)if cell_text\(row\.get\(\"identifiant\"\)\) and is_truthy\(cell_text\(row\.get"
         r"\(\"actif\"\)\)\) and is_email\(\n\s+email\n\s+\):$",
         r'\1active = is_truthy(cell_text(row.get("actif")))\n'
         r'\1if cell_text(row.get("identifiant")) and active and is_email(email):', kind="text"),
    Rule(r"journal\.open_or_create\(\)  # the journal exists; the disk then turns read-only",
         "journal.open_or_create()  # the journal exists; the disk turns read-only", kind="text"),
)


def _code_mask(source: str) -> list[bool] | None:
    """True for every character that is code (not inside a string or a comment); the `{…}`
    parts of f-strings count as code. None when the file does not tokenize."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    mask = [True] * len(source)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    for token in tokens:
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        begin = starts[token.start[0] - 1] + token.start[1]
        end = starts[token.end[0] - 1] + token.end[1]
        for i in range(begin, end):
            mask[i] = False
        prefix = re.match(r"[A-Za-z]*", token.string).group(0).lower()
        if "f" in prefix:
            for expr in re.finditer(r"\{([^{}]*)\}", token.string):
                for i in range(begin + expr.start(1), begin + expr.end(1)):
                    mask[i] = True
    return mask


def _sql_mask(source: str) -> list[bool] | None:
    """True inside string literals that hold SQL: not docstrings (triple-quoted, unless they
    create a table) and not a string that is one bare word."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    mask = [False] * len(source)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        body = token.string.lstrip("rRbBfFuU")
        if body.startswith(('"""', "'''")) and "CREATE TABLE" not in body:
            continue
        if re.fullmatch(r"[\"']\w+[\"']", body):
            continue
        begin = starts[token.start[0] - 1] + token.start[1]
        end = starts[token.end[0] - 1] + token.end[1]
        for i in range(begin, end):
            mask[i] = True
    return mask


def _apply(rule: Rule, text: str, python: bool) -> str:
    flags = re.MULTILINE
    if rule.kind == "text" or not python:
        if rule.kind != "text":
            return text
        return re.sub(rule.pattern, rule.new, text, flags=flags)
    mask = _sql_mask(text) if rule.kind == "sql" else _code_mask(text)
    if mask is None:
        raise SystemExit(f"cannot tokenize; fix it first: {text[:80]!r}")
    out, last = [], 0
    for match in re.finditer(rule.pattern, text, flags=flags):
        if not all(mask[match.start():match.end()]):
            continue
        out.append(text[last:match.start()])
        out.append(match.expand(rule.new))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def files() -> list[Path]:
    found: list[Path] = []
    for root in (*ROOTS, *DOCS):
        path = Path(root)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix in (
                ".py", ".md", ".js", ".gs", ".html"))
    return [p for p in found if p.resolve() != SELF and "__pycache__" not in p.parts]


def rewrite(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    posix = path.as_posix()
    python = path.suffix == ".py"
    new = text
    for rule in RULES:
        if rule.where(posix, new):
            new = _apply(rule, new, python)
    if new == text:
        return False
    if "--check" not in sys.argv:
        path.write_text(new, encoding="utf-8")
    return True


def main() -> int:
    changed = [path for path in files() if rewrite(path)]
    for path in changed:
        print(path)
    ruff = shutil.which("ruff") or shutil.which(".venv/bin/ruff")
    if changed and ruff and "--check" not in sys.argv:  # renamed imports may need re-sorting
        subprocess.run([ruff,  # noqa: S603 - our own file list
                        "check", "--fix", "--select", "I", "--quiet",
                        *[str(p) for p in changed if p.suffix == ".py"]], check=False)
    if "--check" in sys.argv:
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
