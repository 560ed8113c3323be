"""Text laid out in a terminal's columns: a CJK character takes two columns, so padding by
character count (``f"{text:<14}"``) misaligns every line holding Chinese sheet names."""

from __future__ import annotations

import unicodedata


def columns(text: str) -> int:
    """The columns ``text`` takes in a terminal (East Asian wide and fullwidth characters: 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` terminal columns (never cut)."""
    return text + " " * max(0, width - columns(text))
