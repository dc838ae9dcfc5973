"""A daemon thread per process, started on first use: a forked worker starts its own."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable

_instances: weakref.WeakSet[ProcessThread] = weakref.WeakSet()


class ProcessThread:
    """Runs ``target`` in one daemon thread per process."""

    def __init__(self, name: str, target: Callable[[], None]) -> None:
        self.name = name
        self.target = target
        self._lock = threading.Lock()
        self._running: tuple[int, threading.Thread] | None = None
        _instances.add(self)

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
            thread = threading.Thread(target=self.target, name=self.name, daemon=True)
            thread.start()
            self._running = (os.getpid(), thread)


def _after_fork_in_child() -> None:
    # A lock another thread held at the fork stays held forever in the child.
    for instance in list(_instances):
        instance._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
