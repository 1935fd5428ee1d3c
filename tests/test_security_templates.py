"""Templates typed in the `Modeles` tab cannot escape their sandbox.

A secret is put in the environment and in a file; every Jinja trick we know (escapes, file and
environment reads, exhaustion) is tried in the SMS text and in WhatsApp parameters, directly
through the composer and through a whole cycle. Each is refused with a French message that names
the type and canal, and the secret never comes out. Alert fields are data, never template code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sender import schema
from sender.alerts.compose import Composer, TemplateProblem
from sender.alerts.officers import active_officers
from sender.alerts.rules import check_alert
from sender.channels.outbox import OutboxChannel
from sender.config import Settings
from sender.dates import now
from sender.register.defaults import default_template_rows
from sender.runner import Sender
from sender.tables import CellChange
from support.scenario import prevention_alert, quiet_console, sqlite_register

SECRET = "s3cr3t-ne-doit-jamais-sortir-7f1c"
SECRET_VAR = "ALERTE_SECRET_DE_TEST"


@pytest.fixture
def secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_VAR, SECRET)
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


# Every trick we know to escape a Jinja sandbox, exhaust it or reach a file; « @P@ » is the
# secret file, « @V@ » the secret environment variable.
TRICKS = [
    "{{ cycler.__init__.__globals__.os.environ['@V@'] }}",
    "{{ joiner.__init__.__globals__.os.environ }}",
    "{{ lipsum.__globals__['os'].environ }}",
    "{{ lipsum.__globals__.__builtins__.open('@P@').read() }}",
    "{{ self.__init__.__globals__.__builtins__.open('@P@').read() }}",
    "{{ self._TemplateReference__context.environ }}",
    "{{ self }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__mro__[-1].__subclasses__()[100].__init__.__globals__ }}",
    "{{ description.__class__.__base__.__subclasses__() }}",
    "{{ description|attr('__class__')|attr('__base__') }}",
    "{{ description.upper() }}",
    "{{ description.__len__ }}",
    "{{ description['__class__'] }}",
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
    "{{ description|map('upper')|list }}",
    "{{ description|format(description.__class__) }}",
    "{{ description|format(1) }}",
    "{{ '{0.__class__}'.format(description) }}",
    "{{ description|replace('a', description.__class__) }}",
    "{{ description|replace('', description) }}",
    "{{ description|center(1000000000) }}",
    "{{ description|truncate('x') }}",
    "{% with e = lipsum.__globals__ %}{{ e }}{% endwith %}",
    "{% filter upper %}{{ lipsum.__globals__ }}{% endfilter %}",
    "{{ '{{ lipsum.__globals__ }}'|e }}",
    "{% for i in range(10**9) %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'a' * 1000000000 }}",
    "{{ 10 ** 10 ** 10 }}",
    "{{ '%s' % description }}",
    "{% set x = description ~ description %}{{ x }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{{ undefined_variable }}",
    "{{ description }",
    "{% if %}",
    "x" * 20_000,
    "{{ description ~ description ~ description ~ description ~ description }}",
    "(" * 50_000,
    "{{ " + "(" * 4_000 + "description" + ")" * 4_000 + " }}",
    "{{ " + "not " * 2_000 + "description }}",
]


def _armed(trick: str, secret_path: Path) -> str:
    return trick.replace("@P@", str(secret_path)).replace("@V@", SECRET_VAR)


def _alert(**changes: str):
    officers = active_officers([{"identifiant": "G48001", "actif": "oui", "service": "G"}])
    verdict = check_alert(prevention_alert(**changes), officers=officers, now=now())
    assert verdict.alert is not None, verdict.motifs
    return verdict.alert


@pytest.mark.parametrize("trick", TRICKS, ids=range(len(TRICKS)))
def test_every_trick_is_refused_without_leaking(secret_file: Path, trick: str):
    source = _armed(trick, secret_file)
    alert = _alert(description="d" * 1000)
    composer = Composer([
        {"type": "*", "canal": "sms", "texte": source},
        {"type": "*", "canal": "whatsapp", "modele_whatsapp": "prevention_commercants",
         "langue": "fr", "texte": f"message: {source}\nservice: {{{{ service }}}}"},
    ])
    for channel in ("sms", "whatsapp", "outbox"):
        with pytest.raises(TemplateProblem) as caught:
            composer.compose(alert, channel)
        message = caught.value.message
        canal = "whatsapp" if channel == "whatsapp" else "sms"
        assert message.startswith(f"Modèle « prévention » / {canal} : ")
        assert message.endswith("Corriger l'onglet Modeles.")
        assert SECRET not in message and "<class" not in message
        assert len(message) < 1000


@pytest.mark.parametrize(
    "description",
    [
        "{{ 7*7 }} {{ lipsum.__globals__.os.environ }} {% include '/etc/passwd' %}",
        "{{ 7*7 }} {% for i in range(10) %}x{% endfor %}",
        "{{ ''.__class__.__mro__ }}",
        "<b>gras</b> &amp; <script>alert(1)</script>",
        "=HYPERLINK(\"http://x\")",
    ],
)
def test_alert_fields_are_data_not_template_code(secret_file: Path, description: str):
    alert = _alert(description=description)
    composer = Composer(default_template_rows())
    for channel in ("sms", "whatsapp"):
        text = composer.compose(alert, channel).text
        assert description in text
        assert "49" not in text and SECRET not in text and "root:" not in text


def test_whole_cycle_with_hostile_templates_sends_no_secret(secret_file: Path, tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    register = sqlite_register(path, 3)
    tricks = [_armed(trick, secret_file) for trick in TRICKS]
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
