"""The unified social credit code (统一社会信用代码) of GB 32100-2015."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def N_(message: str) -> str:
    """Mark a message id for the translation catalog; callers translate it with ``gettext``."""
    return message


def normalise_credit_code(code: str) -> str:
    """Upper-case and strip spaces, as people type it."""
    return "".join(code.split()).upper()


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (each from CHARSET)."""
    total = sum(CHARSET.index(char) * weight for char, weight in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code (English message id), or None when it is."""
    code = normalise_credit_code(code)
    if len(code) != LENGTH:
        return N_("The unified social credit code must be exactly 18 characters.")
    if any(char not in CHARSET for char in code):
        return N_("The unified social credit code contains characters that are not allowed.")
    if check_character(code[:17]) != code[17]:
        return N_("The check character of the unified social credit code is wrong (GB 32100-2015).")
    return None


def make_credit_code(first17: str) -> str:
    """A valid code from 17 characters (for demo data and tests)."""
    return first17 + check_character(first17)
