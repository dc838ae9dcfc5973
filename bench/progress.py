"""A one-line progress bar on stderr (no dependency)."""

from __future__ import annotations

import sys
import time


class Progress:
    """``label [#####.....] 52% 104,000/200,000 12.3s``, redrawn in place."""

    WIDTH = 30

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.started = time.monotonic()
        self._drawn_at = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._drawn_at >= 0.2 or self.done >= self.total:
            self._drawn_at = now
            self._draw()

    def _draw(self) -> None:
        share = min(self.done / self.total, 1.0)
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(
            f"\r{self.label:<22} [{bar}] {share:4.0%} {self.done:,}/{self.total:,} {elapsed:5.1f}s"
        )
        sys.stderr.flush()

    def finish(self) -> None:
        self.done = self.total
        self._draw()
        sys.stderr.write("\n")
        sys.stderr.flush()


def step(message: str) -> None:
    """A one-line status message on stderr."""
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()
