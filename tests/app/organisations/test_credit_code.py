"""The unified social credit code check (GB 32100-2015)."""

import pytest

from conference_app.organisations.credit_code import (
    check_character,
    credit_code_problem,
    make_credit_code,
    normalise_credit_code,
)

# The example of the standard itself, and a published code of a real registrant.
REAL_CODES = ["91350100M000100Y43", "91110000802100433B"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert credit_code_problem(code) is None


@pytest.mark.parametrize("code", REAL_CODES)
def test_a_wrong_check_character_is_refused(code):
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    assert "check character" in credit_code_problem(wrong)


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433"])
def test_wrong_length_is_refused(code):
    assert "18 characters" in credit_code_problem(code)


@pytest.mark.parametrize("code", ["91350100M000100YI3", "91350100M000100O43", "9135010*M000100Y43"])
def test_characters_outside_the_charset_are_refused(code):
    assert "not allowed" in credit_code_problem(code)


@pytest.mark.parametrize("typed", [
    " 91350100m000100y43 ",
    "9135 0100 m000 100y43",
    "9135-0100-M000-100Y-43",
    "9135\u20140100\u3000M000\u2010100Y43",  # an em dash, an ideographic space, a hyphen
    "\uff19\uff11\uff13\uff15\uff10\uff11\uff10\uff10\uff2d\uff10\uff10\uff10\uff11\uff10\uff10\uff39\uff14\uff13",  # full width
])
def test_codes_as_people_type_them_are_accepted_after_normalising(typed):
    assert normalise_credit_code(typed) == "91350100M000100Y43"
    assert credit_code_problem(typed) is None


def test_made_codes_are_valid_and_check_character_is_deterministic():
    code = make_credit_code("51110000500000001")
    assert len(code) == 18 and credit_code_problem(code) is None
    assert check_character("51110000500000001") == code[17]
