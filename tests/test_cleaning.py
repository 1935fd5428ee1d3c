"""Cleaning of the Inscriptions tab: statuses, duplicates, unsubscriptions, communes, increments."""

from sender.cleaning.inscriptions import clean_inscriptions
from sender.schema import COLUMNS, DESINSCRIPTIONS, INSCRIPTIONS
from sender.tables import Row, Table


def table(name, rows):
    return Table(name, list(COLUMNS[name]), [Row(i + 2, r) for i, r in enumerate(rows)])


def signup(telephone, horodatage="01/10/2026 10:00", source="formulaire", commune="Mende", **kw):
    """A sign-up; one from the form comes confirmed by its phone unless `confirme_le=""`."""
    confirmed = horodatage if source == "formulaire" else ""
    return {"telephone": telephone, "horodatage": horodatage, "source": source,
            "commune": commune, "confirme_le": confirmed, **kw}


def results(report, inscriptions):
    return [report.results[r.key] for r in inscriptions.rows]


def test_active_member_gets_e164_commune_code_and_zone():
    ins = table(INSCRIPTIONS, [signup("06 12 34 56 78", commune="st chély d'apcher")])
    (res,) = results(clean_inscriptions(ins), ins)
    assert (res.statut, res.numero, res.code_insee, res.zone) == (
        "actif", "+33612345678", "48140", "gendarmerie")
    assert res.remarque == ""


def test_mende_is_police_zone_and_delegated_names_map_to_current_commune():
    ins = table(INSCRIPTIONS, [signup("0612345678", commune="MENDE"),
                               signup("0612345679", commune="Bagnols les Bains")])
    mende, bagnols = results(clean_inscriptions(ins), ins)
    assert mende.zone == "police" and mende.code_insee == "48095"
    assert bagnols.code_insee == "48027" and bagnols.zone == "gendarmerie"


def test_unknown_commune_is_flagged_but_member_stays_active():
    ins = table(INSCRIPTIONS, [signup("0612345678", commune="Paris")])
    (res,) = results(clean_inscriptions(ins), ins)
    assert res.statut == "actif"
    assert "Paris" in res.remarque and "inconnue" in res.remarque


def test_landline_is_invalid_with_french_reason():
    ins = table(INSCRIPTIONS, [signup("04 66 65 00 00")])
    (res,) = results(clean_inscriptions(ins), ins)
    assert res.statut == "invalide" and "fixe" in res.remarque


def test_duplicates_point_to_earliest_consent():
    ins = table(INSCRIPTIONS, [
        signup("06 12 34 56 78", "05/10/2026 10:00", id="7"),
        signup("+33612345678", "01/10/2026 09:00", id="3"),
        signup("612345678", "02/10/2026 09:00", id="9", source="import"),
    ])
    later, earliest, imported = results(clean_inscriptions(ins), ins)
    assert earliest.statut == "actif"
    assert later.statut == imported.statut == "doublon"
    assert "n° 3" in later.remarque


def test_unsubscription_wins_over_earlier_signups_and_imports():
    ins = table(INSCRIPTIONS, [
        signup("0612345678", "01/10/2026 10:00"),
        signup("0612345678", "20/10/2026 10:00", source="import"),
    ])
    unsub = table(DESINSCRIPTIONS, [
        {"horodatage": "10/10/2026 10:00", "telephone": "06 12 34 56 78", "source": "formulaire",
         "confirme_le": "10/10/2026 10:05"},
    ])
    report = clean_inscriptions(ins, unsub)
    first, imported = results(report, ins)
    assert first.statut == imported.statut == "desinscrit"
    assert "10/10/2026" in first.remarque
    traite = [c for c in report.changes if c.tab == DESINSCRIPTIONS]
    assert traite and traite[0].value == "oui"


def test_new_form_signup_after_unsubscription_reactivates():
    ins = table(INSCRIPTIONS, [
        signup("0612345678", "01/10/2026 10:00"),
        signup("0612345678", "20/10/2026 10:00", source="formulaire"),
    ])
    unsub = table(DESINSCRIPTIONS, [{"horodatage": "10/10/2026 10:00", "telephone": "0612345678"}])
    old, new = results(clean_inscriptions(ins, unsub), ins)
    assert old.statut == "desinscrit" and new.statut == "actif"


def test_staff_marked_unsubscription_is_sticky():
    ins = table(INSCRIPTIONS, [
        signup("0612345678", "01/10/2026 10:00", statut="desinscrit"),
        signup("0612345678", "01/09/2026 10:00", source="import"),
    ])
    marked, earlier_import = results(clean_inscriptions(ins), ins)
    assert marked.statut == "desinscrit"
    assert earlier_import.statut == "desinscrit"


def test_unreadable_unsubscription_is_reported_not_applied():
    ins = table(INSCRIPTIONS, [signup("0612345678")])
    unsub = table(DESINSCRIPTIONS, [{"horodatage": "10/10/2026 10:00", "telephone": "n/a"}])
    report = clean_inscriptions(ins, unsub)
    assert results(report, ins)[0].statut == "actif"
    (change,) = [c for c in report.changes if c.tab == DESINSCRIPTIONS]
    assert change.value.startswith("non traitée")


def test_second_run_with_nothing_new_changes_nothing():
    ins = table(INSCRIPTIONS, [signup("0612345678"), signup("0466000000"), signup("0612345678")])
    first = clean_inscriptions(ins)
    assert first.changes
    applied = {r.key: dict(r.values) for r in ins.rows}
    for change in first.changes:
        applied[change.key][change.column] = change.value
    again = Table(INSCRIPTIONS, ins.headers, [Row(k, v) for k, v in applied.items()])
    assert clean_inscriptions(again).changes == []


def test_missing_ids_are_assigned_after_the_highest():
    ins = table(INSCRIPTIONS, [signup("0612345678", id="41"), signup("0612345679")])
    report = clean_inscriptions(ins)
    ids = [c.value for c in report.changes if c.column == "id"]
    assert ids == ["42"]


def test_garbage_rows_never_raise():
    hostile = ["=HYPERLINK(\"http://x\")", "x" * 100_000, "\x00\x01", "+", "0" * 40, "😀"]
    ins = table(INSCRIPTIONS, [signup(h, horodatage=h, commune=h) for h in hostile])
    report = clean_inscriptions(ins)
    assert all(r.statut == "invalide" for r in report.results.values())
