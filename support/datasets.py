"""Realistic synthetic registers: French spellings, typos, landlines and ~20 % duplicates."""

from __future__ import annotations

import random

from sender.domain.communes import current_communes
from sender.schema import ACTIVITES


def _mobile(rng: random.Random) -> str:
    return f"0{rng.choice('67')}{rng.randrange(10**8):08d}"


def _spell(number: str, rng: random.Random) -> str:
    """The same number as people type it."""
    digits = number[1:]
    pairs = [number[i : i + 2] for i in range(0, 10, 2)]
    choice = rng.random()
    if choice < 0.35:
        return " ".join(pairs)
    if choice < 0.50:
        return number
    if choice < 0.60:
        return ".".join(pairs)
    if choice < 0.70:
        rest = " ".join(digits[i : i + 2] for i in range(1, 9, 2))
        return f"+33 {digits[0]} {rest}"
    if choice < 0.78:
        return digits  # a sheet dropped the leading zero
    if choice < 0.84:
        return f"+33 (0){digits}"
    if choice < 0.90:
        return f"0033{digits}"
    if choice < 0.95:
        return "-".join(pairs)
    return f"{' '.join(pairs)} (portable)"


def signups(count: int, *, seed: int = 48) -> list[dict[str, str]]:
    """`count` Inscriptions rows: ~20 % duplicates, ~5 % landlines, ~3 % typos."""
    rng = random.Random(seed)
    communes = [c.nom for c in current_communes()]
    distinct: list[str] = []
    rows: list[dict[str, str]] = []
    for index in range(count):
        roll = rng.random()
        if distinct and roll < 0.20:
            number = _spell(rng.choice(distinct), rng)
        elif roll < 0.25:
            tail = " ".join(f"{rng.randrange(100):02d}" for _ in range(3))
            number = f"04 66 {tail}"
        elif roll < 0.28:
            number = _mobile(rng)[: rng.choice((6, 8, 9, 11))]  # typo: too short/long
        else:
            mobile = _mobile(rng)
            distinct.append(mobile)
            number = _spell(mobile, rng)
        commune = rng.choice(communes)
        if rng.random() < 0.3:
            commune = commune.upper().replace("SAINT-", "ST ")
        stamp = (
            f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 13):02d}/2026 "
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        )
        source = rng.choice(("formulaire", "import", "saisie"))
        rows.append(
            {
                "id": str(index + 1),
                "horodatage": stamp,
                "source": source,
                # Form sign-ups of a register in use were confirmed by their phone.
                "confirme_le": stamp if source == "formulaire" else "",
                "nom": f"Adhérent {index}",
                "entreprise": f"Entreprise {index}",
                "activite": rng.choice(ACTIVITES),
                "commune": commune,
                "telephone": number,
                "consentement": "v1",
            }
        )
    return rows
