"""Command of the outbound confirmations' budget: confirmations (figures, fraud brake, resume)."""

from __future__ import annotations

import argparse
import time

from rich.markup import escape

from sender.cli.alert_commands import make_sender
from sender.cli.common import command, err, out
from sender.config import Settings
from sender.consent.budget import etat_figures, outbound_state, resume


def _arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--reprendre", action="store_true",
        help="relance les messages de confirmation mis en pause par le frein (après avoir "
        "vérifié dans l'onglet Inscriptions que les demandes récentes sont réelles)",
    )


@command(
    "confirmations",
    "montre les envois du jour et du mois (coût estimé), le budget des messages de "
    "confirmation, le plafond SMS du mois et le frein anti-fraude ; --reprendre relance les "
    "confirmations mises en pause par le frein",
    "alerte-message confirmations --reprendre",
    arguments=_arguments,
)
def cmd_confirmations(args: argparse.Namespace, settings: Settings) -> int:
    sender = make_sender(settings)
    try:
        snapshot, _ = sender.snapshot()
        waiting = {request.message_id for request in snapshot.cleaning.pending}
        journal = sender.journal
        moment = time.time()
        if args.reprendre:
            resume(journal, moment)
            err.print("Messages de confirmation relancés : le frein ne compte plus que les "
                      "messages envoyés à partir de maintenant.")
        state = outbound_state(settings, journal, waiting, moment)
        figures = etat_figures(journal, settings.rates, moment)
    finally:
        sender.close()
    out.print(f"Aujourd'hui : {escape(figures['envois_jour'])}")
    out.print(f"Ce mois-ci : {escape(figures['envois_mois'])}")
    out.print(f"Confirmations sortantes : {escape(state.etat())}")
    return 0
