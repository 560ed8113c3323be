"""A one-line progress bar on stderr for long batches, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30


class ProgressBar:
    """Redraws ``校验 [#####-----] 12/100 3.2 个/秒`` in place; call it with (done, total).

    Hand-written rather than a dependency: one line of ``\\r`` redraws is all a batch needs.
    """

    def __init__(self, stream: TextIO, lang: str = "zh") -> None:
        self.stream = stream
        self.lang = lang
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    @classmethod
    def for_stderr(cls, lang: str = "zh") -> ProgressBar | None:
        """A bar on stderr, or None when stderr is a pipe or file (nothing must leak there)."""
        stream = sys.stderr
        return cls(stream, lang) if stream.isatty() else None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_draw < 0.1:
            return  # redrawing more than ten times a second only costs time
        self._last_draw = now
        filled = _WIDTH * done // total if total else _WIDTH
        rate = done / max(now - self.started, 1e-9)
        label, unit = ("校验", "个/秒") if self.lang == "zh" else ("verifying", "/s")
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"\r{label} [{bar}] {done}/{total} {rate:.1f} {unit}")
        self._drawn = done < total
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()

    def clear(self) -> None:
        """Wipe the bar's line, so text printed on the terminal does not run into it."""
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False
            self._last_draw = 0.0  # redraw at the next call
