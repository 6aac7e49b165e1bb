"""String enums whose members carry a translatable title."""

from __future__ import annotations

import enum
from typing import Any


class TitledStrEnum(enum.StrEnum):
    """Members are declared ``NAME = "value", _l("Title")``; ``member.title`` is the title
    in the reader's language, ``titles()`` maps values to the lazy titles."""

    def __new__(cls, value: str, lazy_title: Any):
        member = str.__new__(cls, value)
        member._value_ = value
        member.lazy_title = lazy_title
        return member

    @property
    def title(self) -> str:
        return str(self.lazy_title)

    @classmethod
    def titles(cls) -> dict[str, Any]:
        """value -> lazy title, in declaration order (for choices and audit registries)."""
        return {member.value: member.lazy_title for member in cls}
