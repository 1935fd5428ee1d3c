"""Templates typed in the `Modeles` tab cannot read files nor environment variables.

A secret is put in the environment and in a file; every Jinja trick we know is tried in the SMS
text and in WhatsApp parameters, directly through the composer and through a whole cycle. The
secret must never come out: the template is refused (French message) or renders without it.
Alert fields are data, never template code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sender import schema
from sender.alerts.compose import Composer, TemplateProblem
from sender.alerts.rules import active_officers, check_alert
from sender.channels.outbox import OutboxChannel
from sender.config import Settings
from sender.dates import now
from sender.register.base import CellChange
from sender.runner import Sender
from support.scenario import prevention_alert, quiet_console, sqlite_register

SECRET = "s3cr3t-ne-doit-jamais-sortir-7f1c"
SECRET_VAR = "ALERTE_SECRET_DE_TEST"


@pytest.fixture
def secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_VAR, SECRET)
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def _tricks(secret_path: Path) -> list[str]:
    tricks = [
        "{{ cycler.__init__.__globals__.os.environ['@V@'] }}",
        "{{ joiner.__init__.__globals__.os.environ }}",
        "{{ lipsum.__globals__['os'].environ }}",
        "{{ lipsum.__globals__.__builtins__.open('@P@').read() }}",
        "{{ self.__init__.__globals__.__builtins__.open('@P@').read() }}",
        "{{ self._TemplateReference__context.environ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__.__mro__[-1].__subclasses__()[100].__init__.__globals__ }}",
        "{{ description.__class__.__base__.__subclasses__() }}",
        "{{ description|attr('__class__')|attr('__base__') }}",
        "{{ namespace.__init__.__globals__.os.environ }}",
        "{{ config }}{{ request }}{{ environ }}{{ os }}{{ settings }}",
        "{{ range.__self__.open('@P@').read() }}",
        "{% include '@P@' %}",
        "{% import '@P@' as s %}{{ s }}",
        "{% from '@P@' import x %}{{ x }}",
        "{% extends '@P@' %}",
        "{% include '/proc/self/environ' %}",
        "{{ {}.__class__.__init__.__globals__ }}",
        "{{ description|map(attribute='__class__')|list }}",
        "{{ description|format(description.__class__) }}",
        "{{ description|replace('a', description.__class__) }}",
        "{% with e = lipsum.__globals__ %}{{ e }}{% endwith %}",
        "{% filter upper %}{{ lipsum.__globals__ }}{% endfilter %}",
        "{{ '{{ lipsum.__globals__ }}'|e }}",
    ]
    return [t.replace('@P@', str(secret_path)).replace('@V@', SECRET_VAR) for t in tricks]


def _alert():
    officers = active_officers([{"identifiant": "G48001", "actif": "oui", "service": "G"}])
    verdict = check_alert(prevention_alert(description="Faux billets"), officers=officers,
                          now=now())
    assert verdict.alert is not None, verdict.motifs
    return verdict.alert


def _rows(canal: str, source: str) -> list[dict[str, str]]:
    if canal == "whatsapp":
        return [{"type": "*", "canal": "whatsapp", "modele_whatsapp": "prevention_commercants",
                 "langue": "fr", "texte": f"message: {source}\nservice: {{{{ service }}}}"}]
    return [{"type": "*", "canal": "sms", "texte": source}]


@pytest.mark.parametrize("canal", ["sms", "whatsapp", "outbox"])
def test_composer_never_leaks_the_secret(secret_file: Path, canal: str):
    alert = _alert()
    for source in _tricks(secret_file):
        composer = Composer(_rows("sms" if canal == "outbox" else canal, source))
        try:
            message = composer.compose(alert, canal)
        except TemplateProblem as problem:
            assert SECRET not in problem.message
            assert problem.message.startswith("Modèle")
            continue
        rendered = message.text + json.dumps(dict(message.parameters), ensure_ascii=False)
        assert SECRET not in rendered, source


def test_alert_fields_are_data_not_template_code(secret_file: Path):
    alert = _alert()
    alert.description = "{{ 7*7 }} {{ lipsum.__globals__.os.environ }} {% include '/etc/passwd' %}"
    message = Composer(_rows("sms", "{{ description }}")).compose(alert, "sms")
    assert "{{ 7*7 }}" in message.text and "49" not in message.text
    assert SECRET not in message.text and "root:" not in message.text


def test_whole_cycle_with_hostile_templates_sends_no_secret(secret_file: Path, tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    register = sqlite_register(path, 3)
    tricks = _tricks(secret_file)
    settings = Settings(register=str(path), journal=tmp_path / "journal.sqlite",
                        outbox=tmp_path / "outbox.jsonl")
    channel = OutboxChannel(settings.outbox, console=quiet_console(), quiet=True)
    sender = Sender(register, settings, channel=channel, console=quiet_console(), progress=False)
    modeles = register.read([schema.MODELES])[schema.MODELES]
    sms_rows = [row for row in modeles.rows if row.get("canal") == "sms"]
    statuses: list[str] = []
    try:
        for number, source in enumerate(tricks, start=1):
            register.write([CellChange(schema.MODELES, row.key, "texte", source)
                            for row in sms_rows])
            register.append(schema.ALERTES, [prevention_alert(str(number))])
            sender.run_once()
            row = next(r for r in register.read([schema.ALERTES])[schema.ALERTES].rows
                       if r.get("id") == str(number))
            assert row.get("statut") in (schema.ERREUR, schema.DIFFUSEE), source
            assert SECRET not in row.get("motif")
            statuses.append(row.get("statut"))
    finally:
        sender.close()
    everything = path.read_bytes() + (
        settings.outbox.read_bytes() if settings.outbox.exists() else b""
    )
    assert SECRET.encode() not in everything
    assert statuses.count(schema.ERREUR) >= len(tricks) - 2  # nearly every trick is refused
    register.close()
