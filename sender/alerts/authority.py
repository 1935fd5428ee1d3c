"""Authority from Google, not from a typed identifier: is the `Alertes` tab really protected?

On Google Sheets, anyone who can edit the sheet could type an officer's identifier in an
`Alertes` row. `initialiser` therefore protects `Alertes` (editable only by the active officers'
Google accounts) and `Habilitations` (by the CMA only). Before each dispatch the sender reads
those protections (one metadata request) and `protection_problem` says, in French, what is
wrong; then no alert is sent. The `Habilitations` check of each row (active officer, service)
stays as a second key. Pure functions; see `register.protection` for the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sender import schema
from sender.register.protection import Protection, ours

_FIX = "la CMA doit relancer « alerte-message initialiser »"


def _tab_problem(tab: str, protections: Sequence[Protection], allowed: set[str]) -> str | None:
    protection = ours(protections)
    if protection is None:
        warning = any(p.whole_tab and p.warning_only for p in protections)
        kind = "n'a qu'une protection d'avertissement" if warning else "n'est pas protégé"
        return (
            f"l'onglet {tab} {kind} : n'importe quel éditeur de la feuille pourrait le modifier "
            f"({_FIX})"
        )
    if protection.domain_can_edit or protection.groups:
        return (
            f"la protection de l'onglet {tab} est ouverte à un groupe ou à tout le domaine "
            f"({_FIX})"
        )
    editors = set(protection.users) - set(protection.google_accounts)
    extra, missing = sorted(editors - allowed), sorted(allowed - editors)
    if not extra and not missing:
        return None
    parts = []
    if extra:
        parts.append(f"en trop : {', '.join(extra)}")
    if missing:
        parts.append(f"manquants : {', '.join(missing)}")
    who = "les agents actifs de l'onglet Habilitations" if tab == schema.ALERTES else "la CMA"
    return (
        f"les comptes autorisés à modifier l'onglet {tab} ne correspondent pas à {who} "
        f"({' ; '.join(parts)}) : {_FIX}"
    )


def protection_problem(
    protections: Mapping[str, Sequence[Protection]], officers: set[str]
) -> str | None:
    """Why alerts may not be sent (French), or None when `Alertes` may be edited by exactly
    the active officers and `Habilitations` by nobody but the accounts Google keeps."""
    problems = [
        problem
        for tab, allowed in ((schema.ALERTES, officers), (schema.HABILITATIONS, set()))
        if (problem := _tab_problem(tab, protections.get(tab, ()), allowed)) is not None
    ]
    if not problems:
        return None
    text = " ; ".join(problems)
    return text[0].upper() + text[1:] + "."
