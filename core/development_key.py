"""The SECRET_KEY of a development checkout: random, made once, kept in its data folder.

A key written in the code is public: anyone who reads it could sign a session cookie for any
``make run`` instance, or compute what is derived from it (the demo accounts' tokens and
password). Here each checkout makes its own on first use (``<EMBEDDED_DB_DIR>/secret_key``, mode
600), so those stay the checkout's secret and survive restarts. Production sets ``SECRET_KEY``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

FILE_NAME = "secret_key"


def development_secret_key(folder: Path) -> str:
    """This checkout's key, made on first use (several processes may race: one file wins)."""
    path = folder / FILE_NAME
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    for _ in range(50):  # a racing process may not have written it yet
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty")
