"""One table of sign-ups and unsubscription requests, valid and hostile, for both intakes.

The Python intake (`sender.intake.validation`, tests/test_intake_validation.py) and the Apps
Script intake (`apps-script/Code.gs` under Node, tests/test_apps_script.py) are checked against
these very cases: the second must store the same rows and answer the same messages as the first.
`accepted` is what the Python intake does (the reference); a case the issue lists says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

MOMENT = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the night of the change to summer time

BASE = {
    "nom": "Anne Rouvière",
    "entreprise": "Boulangerie du Gévaudan",
    "activite": "Alimentation (boulangerie, boucherie, épicerie…)",
    "commune": "Marvejols",
    "telephone": "06 12 34 56 78",
    "consentement": "oui",
}
# BASE as the sign-up page posts it: every field, the honeypot `site_web` left empty.
SIGNUP_FORM = {**BASE, "site_web": ""}


@dataclass(frozen=True)
class FormCase:
    label: str
    kind: str  # "inscription" or "desinscription"
    form: dict[str, str] = field(default_factory=dict)
    accepted: bool = True  # stored by the Python intake (a spam case counts as not stored)


def signup(label: str, accepted: bool = True, **fields: str) -> FormCase:
    return FormCase(label, "inscription", {**BASE, **fields}, accepted)


def unsubscribe(label: str, telephone: str, accepted: bool = True, **fields: str) -> FormCase:
    return FormCase(label, "desinscription", {"telephone": telephone, **fields}, accepted)


CASES: tuple[FormCase, ...] = (
    signup("ordinary sign-up"),
    # communes: delegated and former names, spellings
    signup("delegated commune Sainte-Enimie", commune="Sainte-Enimie"),
    signup("delegated commune Le Pont-de-Montvert", commune="Le Pont-de-Montvert"),
    signup("former commune Bagnols-les-Bains", commune="Bagnols les Bains"),
    signup("abbreviated saint, no accents", commune="st chely d apcher"),
    signup("postcode before the name", commune="48000 Mende"),
    signup("prefix of one commune", commune="Florac"),
    signup("commune elsewhere", accepted=False, commune="Paris"),
    signup("commune made of digits", accepted=False, commune="48000"),
    # phones the Python intake accepts
    signup("+33 then a national 0", telephone="+33 06 12 34 56 78"),
    signup("tel: prefix", telephone="tel:+33 6 12 34 56 78"),
    signup("Tél. prefix", telephone="Tél. 06 12 34 56 78"),
    signup("nine digits, the 0 lost by a spreadsheet", telephone="612345678"),
    signup("full-width digits", telephone="０６ １２ ３４ ５６ ７８"),
    signup("Arabic-Indic digits", telephone="٠٦١٢٣٤٥٦٧٨"),
    signup("0033 prefix", telephone="0033 6 12 34 56 78"),
    signup("(0) after +33", telephone="+33 (0)6 12 34 56 78"),
    signup("dashes and a note", telephone="06-12-34-56-78 (portable)"),
    signup("dots", telephone="06.12.34.56.78"),
    signup("extension after a comma", telephone="06 12 34 56 78, 12"),
    signup("Réunion mobile with its code", telephone="+262 692 12 34 56"),
    signup("Mayotte mobile (+262 too)", telephone="+262 639 01 23 45"),
    signup("Guadeloupe mobile", telephone="+590 690 12 34 56"),
    signup("New Caledonia mobile", telephone="+687 75 12 34"),
    # mobiles of other countries: refused by default (ALERTE_PAYS)
    signup("British mobile", accepted=False, telephone="+44 7911 123456"),
    signup("Belgian mobile", accepted=False, telephone="+32 470 12 34 56"),
    signup("Swiss mobile", accepted=False, telephone="+41 79 123 45 67"),
    signup("North Korean number", accepted=False, telephone="+850 191 123 4567"),
    # phones the Python intake refuses
    signup("British landline", accepted=False, telephone="+44 20 7946 0958"),
    signup("Belgian landline", accepted=False, telephone="+32 2 555 12 12"),
    signup("07 00 00 00 00", accepted=False, telephone="07 00 00 00 00"),
    signup("0692 without +262", accepted=False, telephone="0692 12 34 56"),
    signup("Lozère landline", accepted=False, telephone="04 66 65 00 00"),
    signup("VoIP 09", accepted=False, telephone="09 70 12 34 56"),
    signup("toll-free", accepted=False, telephone="08 00 12 34 56"),
    signup("one digit missing", accepted=False, telephone="06 12 34 56 7"),
    signup("unknown country code", accepted=False, telephone="+999 12345678"),
    signup("letters in the number", accepted=False, telephone="06 12 AB 56 78"),
    signup("no digit at all", accepted=False, telephone="pas de portable"),
    # hostile text: invisible and control characters are removed, formulas neutralised
    signup("bidi override in the name", nom="Anne \u202eeiruoR\u202c"),
    signup("zero-width characters everywhere", nom="An\u200bne", entreprise="Boul\u200dangerie",
           telephone="06\u200b12345678"),
    signup("C1 control characters", nom="Anne\u0085Rouvière\u0090", telephone="06 12 34 56 78\x85"),
    signup("byte order mark and isolates", commune="\ufeffMende\u2066", nom="\u2067Anne\u2069"),
    signup("new lines and tabs", nom="Anne\nRouvière\tfille", entreprise="  Boulangerie  "),
    signup("formula in the business name", entreprise="=HYPERLINK(\"http://x\";\"clic\")"),
    signup("plus sign starting the name", nom="+Anne"),
    signup("at sign starting the name", nom="@Anne"),
    signup("emoji and combining accents", nom="Ann\u0065\u0301 🥖"),
    signup("right-to-left letters", nom="آن روویر"),
    signup("name at the length limit", nom="A" * 120),
    signup("name too long", accepted=False, nom="A" * 121),
    signup("astral characters count once", nom="𝔸" * 120),
    signup("business too long", accepted=False, entreprise="B" * 151),
    signup("phone too long", accepted=False, telephone="0" * 41),
    # missing fields
    signup("everything empty", accepted=False, nom="", entreprise="", activite="", commune="",
           telephone="", consentement=""),
    signup("blank name", accepted=False, nom=" \u200b "),
    signup("trade not in the list", accepted=False, activite="Banque"),
    signup("consent not ticked", accepted=False, consentement=""),
    signup("consent with another value", accepted=False, consentement="on"),
    # a robot
    signup("honeypot filled", accepted=False, site_web="http://spam.example"),
    # unsubscription requests
    unsubscribe("ordinary unsubscription", "06 12 34 56 78"),
    unsubscribe("landline (any real number)", "04 66 65 00 00"),
    unsubscribe("British landline", "+44 20 7946 0958"),
    unsubscribe("full-width digits", "０６１２３４５６７８"),
    unsubscribe("tel: prefix", "tel:0612345678"),
    unsubscribe("zero-width and bidi", "06\u200b12\u202e345678"),
    unsubscribe("07 00 00 00 00", "07 00 00 00 00", accepted=False),
    unsubscribe("0692 without +262", "0692 12 34 56", accepted=False),
    unsubscribe("empty", "", accepted=False),
    unsubscribe("too long", "0" * 41, accepted=False),
    unsubscribe("letters", "zéro six", accepted=False),
    unsubscribe("honeypot filled", "06 12 34 56 78", accepted=False, site_web="x"),
)
