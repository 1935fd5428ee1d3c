"""Tab names, column headers and status vocabularies of the register (see docs/architecture.md).

Headers are French because CMA staff and officers read them in the sheet.
"""

from __future__ import annotations

from typing import Final

INSCRIPTIONS: Final = "Inscriptions"
DESINSCRIPTIONS: Final = "Desinscriptions"
ALERTES: Final = "Alertes"
MODELES: Final = "Modeles"
HABILITATIONS: Final = "Habilitations"
ETAT: Final = "Etat"

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    INSCRIPTIONS: (
        "id", "horodatage", "source", "nom", "entreprise", "activite", "commune", "telephone",
        "consentement", "confirme_le", "statut", "numero", "code_insee", "zone", "remarque",
    ),
    DESINSCRIPTIONS: ("horodatage", "telephone", "source", "confirme_le", "traite"),
    ALERTES: (
        "id", "saisie_le", "service", "agent", "type", "precision", "faits_le", "signale_le",
        "commune", "lieu", "description", "auteurs", "vehicule", "cible_zone", "cible_communes",
        "cible_activites", "statut", "motif", "diffusee_le", "destinataires", "envoyes", "echecs",
        "remis", "lus", "suite_de", "controle",
    ),
    MODELES: ("type", "canal", "modele_whatsapp", "langue", "texte"),
    HABILITATIONS: ("identifiant", "nom", "service", "actif", "email"),
    ETAT: ("cle", "valeur", "mis_a_jour"),
}

TABS: Final = tuple(COLUMNS)

# Columns only Alerte Message writes (the sender, and `confirme_le` the confirmation page); on
# Google Sheets they carry a warning-only protection.
SENDER_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    INSCRIPTIONS: ("confirme_le", "statut", "numero", "code_insee", "zone", "remarque"),
    DESINSCRIPTIONS: ("confirme_le", "traite"),
    ALERTES: (
        "motif", "diffusee_le", "destinataires", "envoyes", "echecs", "remis", "lus", "controle",
    ),
}

# Columns added after the first version: a sheet made before has them only once `initialiser`
# has run again, so the sender writes them only where they exist.
RECENT_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    ALERTES: ("remis", "lus", "suite_de", "controle"),
}

# Inscription statuses. `en attente`: a sign-up from the public form whose phone has not
# confirmed it yet (it never receives an alert).
EN_ATTENTE: Final = "en attente"
ACTIF: Final = "actif"
INVALIDE: Final = "invalide"
DOUBLON: Final = "doublon"
DESINSCRIT: Final = "desinscrit"
# `suspendu`: the member asked to limit the use of their data (article 18 of the GDPR): the
# row is kept as it is and never receives an alert until `personne --reprendre`.
SUSPENDU: Final = "suspendu"
INSCRIPTION_STATUSES: Final = (EN_ATTENTE, ACTIF, INVALIDE, DOUBLON, DESINSCRIT, SUSPENDU)

# Inscription sources.
SOURCE_FORMULAIRE: Final = "formulaire"
SOURCE_IMPORT: Final = "import"
SOURCE_SAISIE: Final = "saisie"
# A sign-up made entirely on WhatsApp (a conversation with the network's number), or an
# unsubscription sent there (« STOP »).
SOURCE_WHATSAPP: Final = "whatsapp"

# Alert statuses.
BROUILLON: Final = "brouillon"
A_DIFFUSER: Final = "à diffuser"
EN_COURS: Final = "en cours"
DIFFUSEE: Final = "diffusée"
REFUSEE: Final = "refusée"
ERREUR: Final = "erreur"
# Set by an officer to call an alert off: what is not sent yet never goes (see cycle.py).
ANNULEE: Final = "annulée"
ALERT_STATUSES: Final = (BROUILLON, A_DIFFUSER, EN_COURS, DIFFUSEE, REFUSEE, ERREUR, ANNULEE)

ALERT_TYPES: Final = ("vol", "agression", "cambriolage", "escroquerie", "prévention")
ESCROQUERIE_PRECISIONS: Final = (
    "faux moyen de paiement", "fausse qualité", "rendez-moi", "autre",
)
# Follow-ups of an alert already sent (`suite_de` holds its id): they go to exactly the members
# the original reached (CAP 1.2 « Update », and the end of the alert).
SUITE: Final = "suite"
FIN_ALERTE: Final = "fin d'alerte"
SEQUEL_TYPES: Final = (SUITE, FIN_ALERTE)
ALERT_ROW_TYPES: Final = ALERT_TYPES + SEQUEL_TYPES  # what the `type` cell of `Alertes` offers
SEQUEL_MAX_DAYS: Final = 7  # a follow-up goes out at most this long after its original's first send
TARGET_ZONES: Final = ("toutes", "police", "gendarmerie")

# Trades offered in the signup form and as a drop-down in the sheet.
ACTIVITES: Final = (
    "Alimentation (boulangerie, boucherie, épicerie…)",
    "Café, hôtel, restaurant",
    "Coiffure, esthétique",
    "Bâtiment",
    "Automobile, motocycle",
    "Commerce de détail",
    "Bijouterie, horlogerie",
    "Pharmacie, optique, santé",
    "Tabac, presse",
    "Services",
    "Fabrication, artisanat d'art",
    "Autre",
)
