"""Cell text that a spreadsheet could run as a formula is neutralised, whatever the script of
the sign that starts it."""

from __future__ import annotations

import pytest

from sender.text import cell_text, is_formula, neutralise

SIGNS = ["=", "＝", "﹦", "+", "＋", "﹢", "-", "－", "﹣", "@", "＠", "﹫"]


@pytest.mark.parametrize("sign", SIGNS)
def test_every_form_of_a_formula_sign_is_neutralised(sign: str) -> None:
    hostile = f"{sign}HYPERLINK(\"https://exemple.invalid\";\"cliquez\")"
    assert is_formula(hostile)
    stored = neutralise(hostile)
    assert stored == "'" + hostile
    assert not is_formula(stored)
    assert neutralise(stored) == stored  # idempotent
    assert cell_text(stored) == hostile  # shown unchanged outside the sheet


def test_full_width_equals_alone_in_the_middle_is_plain_text() -> None:
    assert neutralise("prix ＝ 3 €") == "prix ＝ 3 €"
    assert neutralise("+33612345678") == "+33612345678"
