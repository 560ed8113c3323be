"""Control characters made visible, so text from a unit's mail or workbook never acts on a screen.

A file name, a mail subject or a cell's text can carry ESC sequences (that recolour or rewrite a
terminal), NUL, bidirectional overrides (that show a name reversed) or lone surrogates (undecodable
file names, which crash an encoder). Wherever xlcheck shows such text, to a terminal, in a cell
or in a mail, each of these characters is written as its escape instead: ``\\x1b``, ``\\u202e``.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the bidirectional marks, overrides and isolates, the two XML
# non-characters and lone surrogates (os.fsdecode's stand-ins for undecodable bytes).
_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep: str = "") -> str:
    """``text`` with every control character written as its escape, except those in ``keep``.

    Args:
        keep: characters left as they are, e.g. ``"\\n"`` for a multi-line message body or
            ``"\\t\\n\\r"`` for a cell, where they are legal and mean what they say.
    """
    if not _CONTROLS.search(text):
        return text  # the common case costs one scan
    return _CONTROLS.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def has_controls(text: str) -> bool:
    """Whether ``text`` holds any character ``escape_controls`` would rewrite."""
    return _CONTROLS.search(text) is not None


#: ``_CONTROLS`` but C0: those left raw in JSON text are the document's own line breaks
#: (json.dumps escapes them in strings), and matching each of them cost a call per line.
_JSON_CONTROLS = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff\ud800-\udfff]"
)


def escape_json_controls(document: str) -> str:
    """JSON text with the controls ``json.dumps(ensure_ascii=False)`` leaves raw (C1, bidi, lone
    surrogates) written as ``\\uXXXX``; they only occur inside strings, where that is valid."""
    if not _JSON_CONTROLS.search(document):
        return document
    return _JSON_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
