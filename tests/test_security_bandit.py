"""Static security scan: `bandit -r sender -ll` with the project configuration.

No medium or high finding may remain, and every finding silenced with `# nosec` must name the
bandit test it silences and say why, on the flagged statement itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
_NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$")
_TEST_ID = re.compile(r"\bB\d{3}\b")


def _bandit() -> str:
    found = Path(sys.executable).with_name("bandit")
    if found.exists():
        return str(found)
    path = shutil.which("bandit")
    assert path is not None, "bandit n'est pas installé (pip install -e '.[dev]')"
    return path


def _scan(*extra: str) -> list[dict]:
    result = subprocess.run(
        [_bandit(), "-c", "pyproject.toml", "-r", "sender", "-ll", "-f", "json", "-q", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.stdout.strip(), f"bandit n'a rien produit : {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    assert not report.get("errors"), report["errors"]
    return report["results"]


def _describe(finding: dict) -> str:
    return (f"{finding['filename']}:{finding['line_number']} {finding['test_id']} "
            f"({finding['issue_severity']}) {finding['issue_text']}")


def test_no_medium_or_high_finding():
    findings = _scan()
    assert not findings, "\n".join(_describe(f) for f in findings)


def test_every_silenced_finding_is_named_and_justified():
    for finding in _scan("--ignore-nosec"):
        path = ROOT / finding["filename"]
        lines = path.read_text(encoding="utf-8").splitlines()
        span = finding.get("line_range") or [finding["line_number"]]
        comments = [
            match["rest"] for number in range(min(span), max(span) + 1)
            if (match := _NOSEC.search(lines[number - 1]))
        ]
        assert comments, f"finding without # nosec yet not reported: {_describe(finding)}"
        rest = comments[0]
        assert finding["test_id"] in _TEST_ID.findall(rest), (
            f"# nosec must name {finding['test_id']}: {_describe(finding)}"
        )
        reason = _TEST_ID.sub("", rest).strip(" -:,;")
        assert len(reason.split()) >= 3, f"# nosec without a reason: {_describe(finding)}"


def test_no_blanket_nosec_in_the_package():
    """A bare `# nosec` would silence every test on its line, justified or not."""
    for path in sorted((ROOT / "sender").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _NOSEC.search(line)
            if match:
                assert _TEST_ID.search(match["rest"]), f"{path}:{number}: # nosec sans test nommé"
