"""A daemon thread per process, started on first use: a forked worker starts its own."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class ProcessThread:
    """Runs ``target`` in one daemon thread per process; ``on_start`` runs first (under a lock),
    to forget state a forked worker inherited from its parent.
    """

    def __init__(self, name: str, target: Callable[[], None], on_start=None) -> None:
        self.name = name
        self.target = target
        self.on_start = on_start
        self._lock = threading.Lock()
        self._running: tuple[int, threading.Thread] | None = None

    def _alive(self) -> bool:
        running = self._running
        return running is not None and running[0] == os.getpid() and running[1].is_alive()

    def ensure(self) -> None:
        """Start the thread in this process unless it runs already (cheap when it does)."""
        if self._alive():
            return
        with self._lock:
            if self._alive():
                return
            if self.on_start is not None:
                self.on_start()
            thread = threading.Thread(target=self.target, name=self.name, daemon=True)
            thread.start()
            self._running = (os.getpid(), thread)
