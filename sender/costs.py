"""What messages cost the CMA: indicative rates from the settings, and French amounts.

WhatsApp bills each delivered template message by category (utility ≈ 0,025 € in France, 2025
rates); free-form replies inside the 24-hour customer-service window cost nothing. An SMS is
billed per part (160 GSM-7 characters, 153 per part when split; 70/67 in UCS-2). The rates are
settings (`ALERTE_TARIF_WHATSAPP`, `ALERTE_TARIF_SMS`) because they change and depend on the
contract: every amount computed here is an estimate, and says so where it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WHATSAPP_RATE = 0.025  # € per utility template message, France, 2025 (indicative)
DEFAULT_SMS_PART_RATE = 0.08  # € per billed SMS part, France, small volumes (indicative)


@dataclass(frozen=True, slots=True)
class Rates:
    """Indicative prices, in euros."""

    whatsapp_template: float = DEFAULT_WHATSAPP_RATE
    sms_part: float = DEFAULT_SMS_PART_RATE

    def estimate(self, whatsapp_templates: int = 0, sms_parts: int = 0) -> float:
        """Estimated cost of that many template messages and SMS parts (free-form WhatsApp
        replies inside the customer-service window are free and not counted)."""
        return whatsapp_templates * self.whatsapp_template + sms_parts * self.sms_part


def euros(amount: float) -> str:
    """`1 234,50 €` as French typography writes it (non-breaking spaces)."""
    whole, cents = f"{amount:,.2f}".split(".")
    return f"{whole.replace(',', chr(0xA0))},{cents}\u00a0€"
