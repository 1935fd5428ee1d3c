"""Table-driven tests of phone cleaning with real-world French spellings."""

import pytest

from sender.domain.phones import parse_phone
from sender.text import mask_phone

MOBILE = "+33612345678"

ACCEPTED = [
    ("06 12 34 56 78", MOBILE),
    ("0612345678", MOBILE),
    ("06.12.34.56.78", MOBILE),
    ("06-12-34-56-78", MOBILE),
    ("06/12/34/56/78", MOBILE),
    ("+33 6 12 34 56 78", MOBILE),
    ("+33 (0)6 12 34 56 78", MOBILE),
    ("+33(0)612345678", MOBILE),
    ("0033 6 12 34 56 78", MOBILE),
    ("0033612345678", MOBILE),
    ("33612345678", MOBILE),
    ("612345678", MOBILE),  # a sheet stored it as a number and dropped the 0
    ("０６１２３４５６７８", MOBILE),  # full-width digits
    ("06\u00a012\u00a034\u00a056\u00a078", MOBILE),  # non-breaking spaces
    ("06\u202f12\u202f34\u202f56\u202f78", MOBILE),  # narrow non-breaking spaces
    ("tel:+33612345678", MOBILE),
    ("Tél. 06 12 34 56 78", MOBILE),
    ("0612345678 (portable)", MOBILE),
    ("06 12 34 56 78 portable", MOBILE),
    ("06 12 34 56 78 [perso]", MOBILE),
    ("  06 12 34 56 78  ", MOBILE),
    ("07 56 12 34 56", "+33756123456"),
    ("756123456", "+33756123456"),
    ("+447911123456", "+447911123456"),
    ("+44 7911 123456", "+447911123456"),
    ("+32 470 12 34 56", "+32470123456"),
    ("0032470123456", "+32470123456"),
    ("+34 612 34 56 78", "+34612345678"),
]

REFUSED = [
    ("04 66 00 00 00", "+33466000000", "ligne fixe"),
    ("0466000000", "+33466000000", "ligne fixe"),
    ("466000000", "+33466000000", "ligne fixe"),
    ("09 49 12 34 56", "+33949123456", "Internet"),
    ("08 99 12 34 56", "+33899123456", "surtaxé"),
    ("0800 12 34 56", "+33800123456", "numéro vert"),
    ("", None, "manquant"),
    ("   ", None, "manquant"),
    ("abc", None, "aucun chiffre"),
    ("06 12 34", None, "incomplet"),
    ("06 12 34 56 78 90 12", None, "incomplet"),
    ("00 00 00 00 00", None, ""),
    ("+44 20 7946 0958", "+442079460958", "ligne fixe"),
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_accepted_mobiles(raw, expected):
    result = parse_phone(raw)
    assert result.ok, result.remarque
    assert result.numero == expected
    assert result.remarque == ""


@pytest.mark.parametrize(("raw", "numero", "reason"), REFUSED)
def test_refused_numbers_say_why_in_french(raw, numero, reason):
    result = parse_phone(raw)
    assert not result.ok
    assert result.numero == numero
    assert reason in result.remarque
    assert result.remarque  # never an empty reason


def test_mask_keeps_only_the_last_two_digits():
    assert mask_phone("+33612345678") == "+33 6 •• •• •• 78"
    masked = mask_phone("+447911123456")
    assert masked.endswith("56") and "7911" not in masked
