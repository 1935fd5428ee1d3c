from sender.config import Settings
from sender.costs import Rates, euros


def test_estimate_counts_templates_and_sms_parts():
    rates = Rates(whatsapp_template=0.025, sms_part=0.08)
    assert rates.estimate(whatsapp_templates=312) == 312 * 0.025
    assert rates.estimate(whatsapp_templates=10, sms_parts=4) == 10 * 0.025 + 4 * 0.08


def test_euros_in_french_typography():
    assert euros(7.8) == "7,80\u00a0€"
    assert euros(1234.5) == "1\u00a0234,50\u00a0€"
    assert euros(0) == "0,00\u00a0€"


def test_rates_come_from_the_settings():
    settings = Settings.from_env({"ALERTE_TARIF_WHATSAPP": "0,03", "ALERTE_TARIF_SMS": "0.05"})
    assert settings.rates == Rates(whatsapp_template=0.03, sms_part=0.05)
    assert Settings.from_env({}).rates == Rates()
