"""Small things a new user trips on: what `verifier` calls an alert already sent, what
`exporter` prints in an 80-column terminal, documented commands that work when pasted, a description
typed in lower case, the default poll."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
from rich.cells import cell_len

from sender import schema
from sender.alerts.compose import Composer
from sender.config import Settings
from sender.register.defaults import default_template_rows
from sender.register.sqlite import SQLiteRegister
from support.scenario import (
    ROOT,
    alerte_message_bin,
    fill,
    prevention_alert,
    subprocess_env,
)
from tests.test_alert_compose import make_alert

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = "\n".join(path.read_text(encoding="utf-8")
                 for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def run(tmp_path: Path, register: Path, *args: str, columns: int = 120
        ) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(tmp_path, str(register), COLUMNS=str(columns))
    return subprocess.run([alerte_message_bin(), *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.slow
def test_verifier_shows_an_alert_already_sent_as_sent(tmp_path: Path) -> None:
    path = tmp_path / "registre.sqlite"
    register = SQLiteRegister(path)
    fill(register, 3, alert=prevention_alert("1", statut=schema.DIFFUSEE, destinataires="3",
                                             envoyes="3"))
    register.append(schema.ALERTES, [prevention_alert("2", statut=schema.BROUILLON)])
    register.close()
    table = run(tmp_path, path, "verifier")
    assert table.returncode == 0, table.stderr
    line = next(li for li in table.stdout.splitlines() if li.strip().startswith("│ 1"))
    assert "diffusée" in line and "ignorée" not in line
    as_json = json.loads(run(tmp_path, path, "verifier", "--json").stdout)
    verdicts = {v["id"]: v["verdict"] for v in as_json}
    assert verdicts == {"1": schema.DIFFUSEE, "2": "ignorée"}
    # the table and --json give the same number of recipients for the alert already sent
    assert re.search(r"│\s*3\s*│", line)
    assert {v["id"]: v["destinataires"] for v in as_json}["1"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("tab", [schema.INSCRIPTIONS, schema.ALERTES])
def test_exporter_prints_a_readable_table_at_80_columns(tmp_path: Path, tab: str) -> None:
    path = tmp_path / "registre.sqlite"
    register = SQLiteRegister(path)
    fill(register, 4, alert=prevention_alert(description="Des faux billets " * 20))
    register.close()
    shown = run(tmp_path, path, "exporter", "--onglet", tab, columns=80)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    header = next(line for line in lines if "statut" in line)
    for column in ("id", "commune", "statut"):
        assert column in header
    assert "--csv" in shown.stderr  # says how to see every column


def _sh_blocks(text: str) -> list[list[str]]:
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_documented_commands_name_a_command_that_exists_when_pasted() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    scripts = set(pyproject["project"]["scripts"])
    for block in _sh_blocks(DOCS):
        activated = any(line.startswith("source .venv/bin/activate") for line in block)
        for line in block:
            command = line.split("#", 1)[0].strip()
            words = shlex.split(command) if command else []
            while words and "=" in words[0]:  # VARIABLE=value before the command
                words.pop(0)
            if words and words[0] == "alerte-message":
                assert activated, f"« {line} » only works in an activated venv: say so first"
            if words and words[0].startswith(".venv/bin/"):
                name = words[0].removeprefix(".venv/bin/")
                assert name in scripts, f"« {line} »: `make install` creates no {name}"
                assert (ROOT / words[0]).exists(), f"{words[0]} is missing: run `make install`"


@pytest.mark.slow
def test_readme_trial_commands_work_when_pasted(tmp_path: Path) -> None:
    block = next(b for b in _sh_blocks(README) if any("exemples/" in line for line in b))
    env = subprocess_env(tmp_path, str(tmp_path / "registre.sqlite"))
    # `make run` (demarrer), started before as the README says, created the register.
    subprocess.run([alerte_message_bin(), "initialiser"], env=env, check=True,
                   capture_output=True, timeout=60)
    for line in block:
        command = shlex.split(line.split("#", 1)[0])
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=60, check=False)
        assert result.returncode == 0, (line, result.stderr)
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    tables = register.read([schema.INSCRIPTIONS, schema.ALERTES, schema.HABILITATIONS])
    assert len(tables[schema.INSCRIPTIONS].rows) == 4
    statuses = sorted(row["statut"] for row in tables[schema.INSCRIPTIONS].as_dicts())
    assert statuses == [schema.ACTIF] * 3 + [schema.INVALIDE]  # as the README says
    assert "3 inscriptions actives et 1 invalide" in " ".join(README.split())
    assert tables[schema.ALERTES].rows and tables[schema.HABILITATIONS].rows


def test_a_description_typed_in_lower_case_starts_the_message_with_a_capital() -> None:
    composer = Composer(default_template_rows())
    alert = make_alert(description="billets de 50 € pris dans la caisse, fuite à pied.")
    sms = composer.compose(alert, "sms")
    assert "Billets de 50 € pris dans la caisse" in sms.text
    assert "billets de 50" not in sms.text
    whatsapp = composer.compose(alert, "whatsapp")
    assert any(v.startswith("Billets de 50") for v in whatsapp.parameters.values())


def test_default_poll_is_ten_seconds_and_the_docs_say_so() -> None:
    assert Settings.from_env({}).poll_seconds == 10
    assert "| `ALERTE_INTERVALLE` | secondes entre deux passages de `surveiller` | `10` |" in DOCS
    assert "6 requêtes par minute" in DOCS and "60 lectures par minute" in DOCS
