"""The unified social credit code (统一社会信用代码) of GB 32100-2015."""

from __future__ import annotations

import re
import unicodedata

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def N_(message: str) -> str:
    """Mark a message id for the translation catalog; callers translate it with ``gettext``."""
    return message


# What people put between the groups of a code: blanks, hyphens and dashes of any width.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\uff0d_.·]+")


def normalise_credit_code(code: str) -> str:
    """The code as stored: full-width characters made plain, separators dropped, upper case.

    People copy codes as ``9111 0000 7001 0009 AQ``, ``9111-0000-...`` or in full-width
    characters from a Chinese document; all mean the same 18 characters.
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", code or "")).upper()


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
