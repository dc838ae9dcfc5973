"""Small process helpers shared by the topology's servers: free ports, waiting for a listener."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from core.embedded.binaries import ServerSetupError

HOST = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports of 127.0.0.1 that nothing listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return " / ".join(log.read_text(errors="replace").strip().splitlines()[-3:])


def wait_for_port(
    port: int,
    *,
    process: subprocess.Popen,
    name: str,
    log: Path | None = None,
    timeout: float = 30.0,
) -> None:
    """Block until ``process`` listens on ``port``; raise with its last log lines if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerSetupError(f"{name} exited with {process.returncode}: {_tail(log)}")
        if port_open(port):
            return
        time.sleep(0.05)
    raise ServerSetupError(f"{name} did not listen on {port} within {timeout:g}s: {_tail(log)}")


def stop_process(process: subprocess.Popen | None, *, timeout: float = 10.0) -> None:
    """SIGTERM (after a SIGCONT: a stopped process cannot exit), then SIGKILL past ``timeout``."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGCONT)
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
