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
        "remis", "lus",
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
    ALERTES: ("motif", "diffusee_le", "destinataires", "envoyes", "echecs", "remis", "lus"),
}

# Columns added after the first version: a sheet made before has them only once `initialiser`
# has run again, so the sender writes them only where they exist.
RECENT_COLUMNS: Final[dict[str, tuple[str, ...]]] = {ALERTES: ("remis", "lus")}

# Inscription statuses. `en attente`: a sign-up from the public form whose phone has not
# confirmed it yet (it never receives an alert).
EN_ATTENTE: Final = "en attente"
ACTIF: Final = "actif"
INVALIDE: Final = "invalide"
DOUBLON: Final = "doublon"
DESINSCRIT: Final = "desinscrit"
INSCRIPTION_STATUSES: Final = (EN_ATTENTE, ACTIF, INVALIDE, DOUBLON, DESINSCRIT)

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
ALERT_STATUSES: Final = (BROUILLON, A_DIFFUSER, EN_COURS, DIFFUSEE, REFUSEE, ERREUR)

ALERT_TYPES: Final = ("vol", "agression", "cambriolage", "escroquerie", "prévention")
ESCROQUERIE_PRECISIONS: Final = (
    "faux moyen de paiement", "fausse qualité", "rendez-moi", "autre",
)
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
