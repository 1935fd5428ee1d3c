"""Choosing the recipients of an alert (sender/alerts/targeting.py)."""

from __future__ import annotations

import pytest

from sender.alerts.model import Alert
from sender.alerts.targeting import (
    Member,
    member_from_row,
    select_recipients,
    split_activities,
)
from sender.domain.communes import match_commune

MENDE = "48095"
MARVEJOLS = "48092"
BOURGS = "48099"  # Bourgs sur Colagne, which absorbed Chirac
FLORAC = "48061"


def member(n: int, zone: str, code: str, activite: str = "Commerce de détail") -> Member:
    return Member(id=f"m{n}", numero=f"+3361234{n:04d}", zone=zone, code_insee=code,
                  activite=activite)


MEMBERS = [
    member(1, "police", MENDE, "Alimentation (boulangerie, boucherie, épicerie…)"),
    member(2, "police", MENDE, "Tabac, presse"),
    member(3, "gendarmerie", MARVEJOLS, "Bijouterie, horlogerie"),
    member(4, "gendarmerie", BOURGS, "boulangerie-pâtisserie"),
    member(5, "gendarmerie", FLORAC, "Café, hôtel, restaurant"),
    member(6, "gendarmerie", MARVEJOLS, "BOULANGERIES"),
    member(7, "", "", "Autre"),
]


def alert(zone: str = "toutes", communes: str = "", activities: str = "") -> Alert:
    targets = [c for c in (match_commune(n) for n in communes.split(",") if n.strip()) if c]
    return Alert(id="A1", type="vol", cible_zone=zone, cible_communes=targets,
                 cible_activites=split_activities(activities))


def ids(members: list[Member]) -> list[str]:
    return [m.id for m in members]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (alert(), ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]),
        (alert(zone=""), ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]),
        (alert(zone="police"), ["m1", "m2"]),
        (alert(zone="gendarmerie"), ["m3", "m4", "m5", "m6"]),
        (alert(communes="Marvejols"), ["m3", "m6"]),
        (alert(communes="Chirac"), ["m4"]),  # former commune → Bourgs sur Colagne
        (alert(communes="Florac, Mende"), ["m1", "m2", "m5"]),
        (alert(zone="police", communes="Marvejols"), []),
        (alert(activities="boulangerie"), ["m1", "m4", "m6"]),
        (alert(activities="Boulangeries; TABAC"), ["m1", "m2", "m4", "m6"]),
        (alert(activities="bijouterie\ncafe"), ["m3", "m5"]),
        (alert(activities="Alimentation (boulangerie, boucherie, épicerie…)"), ["m1", "m4", "m6"]),
        (alert(activities="hôtel"), ["m5"]),
        (alert(activities="tel"), []),  # whole words only: « hôtel » is not « tel »
        (alert(zone="gendarmerie", communes="Marvejols", activities="boulangerie"), ["m6"]),
        (alert(activities="pharmacie"), []),
    ],
)
def test_filters(target: Alert, expected: list[str]) -> None:
    assert ids(select_recipients(target, MEMBERS)) == expected


def test_deduplicated_by_numero_in_stable_order() -> None:
    twin = Member(id="m9", numero=MEMBERS[2].numero, zone="gendarmerie", code_insee=MARVEJOLS)
    result = select_recipients(alert(), [MEMBERS[2], MEMBERS[0], twin, MEMBERS[0]])
    assert ids(result) == ["m3", "m1"]


def test_a_filtered_out_duplicate_does_not_hide_a_matching_one() -> None:
    first = Member(id="a", numero="+33611111111", zone="police", code_insee=MENDE)
    second = Member(id="b", numero="+33611111111", zone="gendarmerie", code_insee=MARVEJOLS)
    assert ids(select_recipients(alert(zone="gendarmerie"), [first, second])) == ["b"]


def test_split_activities_respects_parentheses() -> None:
    assert split_activities("Alimentation (boulangerie, boucherie) ; Tabac, presse\nAutre") == [
        "Alimentation (boulangerie, boucherie)", "Tabac", "presse", "Autre",
    ]
    assert split_activities(" , ;\n") == []


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"statut": "actif", "numero": "+33612345678", "zone": "Police", "code_insee": MENDE},
         Member(id="", numero="+33612345678", zone="police", code_insee=MENDE)),
        ({"statut": "ACTIF ", "numero": "+33 6 12 34 56 78", "id": "7"},
         Member(id="7", numero="+33612345678")),
    ],
)
def test_member_from_row(row: dict[str, str], expected: Member) -> None:
    assert member_from_row(row) == expected


@pytest.mark.parametrize(
    "row",
    [
        {"statut": "desinscrit", "numero": "+33612345678"},
        {"statut": "invalide", "numero": "+33612345678"},
        {"statut": "doublon", "numero": "+33612345678"},
        {"statut": "actif", "numero": ""},
        {"statut": "actif", "numero": "0612345678"},
        {"statut": "actif", "numero": "+33" + "6" * 1_000_000},
        {"statut": "", "numero": "+33612345678"},
        {},
    ],
)
def test_member_from_row_rejects(row: dict[str, str]) -> None:
    assert member_from_row(row) is None


@pytest.mark.slow
def test_hundred_thousand_members_single_pass() -> None:
    activities = ["Tabac, presse", "Café, hôtel, restaurant", "boulangerie", "Autre", "Bâtiment"]
    members = [
        Member(id=str(i), numero=f"+3361{i:07d}", zone="police" if i % 5 == 0 else "gendarmerie",
               code_insee=MENDE if i % 5 == 0 else MARVEJOLS, activite=activities[i % 5])
        for i in range(100_000)
    ]
    chosen = select_recipients(alert(zone="gendarmerie", activities="tabac; boulangerie"), members)
    assert len(chosen) == 20_000  # « Tabac, presse » members are all in the police zone here
    assert [m.id for m in chosen[:3]] == ["2", "7", "12"]
