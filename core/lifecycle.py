"""Graceful drain: on SIGTERM an instance first says it is going away, then stops.

Under gunicorn (``gunicorn.conf.py``) the master's first SIGTERM starts a drain of
``DRAIN_SECONDS``: ``/health/ready`` answers 503 in every worker, while in-flight and new
requests are served as usual, so that the load balancer stops sending traffic before anything is
refused. When the drain ends (or at a second SIGTERM) gunicorn stops as it always does: it
closes its listening sockets and lets each worker finish its request within
``graceful_timeout``.

The flag lives in shared memory made by the master before it forks, so every worker (those
started later too) sees it the moment the master sets it. Nothing here imports Django: the
master reads it before any application code is loaded.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

# The time.time() a drain began; 0: serving.
_drain_started = multiprocessing.RawValue("d", 0.0)


def begin_drain() -> None:
    _drain_started.value = time.time()


def draining() -> bool:
    return _drain_started.value > 0


def install_drain(server, seconds: float) -> None:
    """Make gunicorn's master (``server``, its Arbiter) drain for ``seconds`` on SIGTERM.

    The master dispatches a queued signal to ``handle_<name>``: the first SIGTERM sets the flag
    and arms a timer that sends the master SIGTERM again; that one (or an operator's second)
    takes gunicorn's own path, a graceful stop.
    """
    stop = server.handle_term

    def handle_term() -> None:
        if seconds <= 0 or draining():
            stop()
            return
        begin_drain()
        server.log.info(
            "SIGTERM: draining for %s s (/health/ready answers 503), then stopping", seconds
        )
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()

    server.handle_term = handle_term
