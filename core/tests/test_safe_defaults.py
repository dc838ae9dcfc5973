"""Safe defaults: servers start with the production settings unless told otherwise, a
configuration error is one line (under gunicorn too), and a SECRET_KEY must look random."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.utils import get_random_secret_key

from core.secret_key import weakness
from core.topology.processes import free_ports

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
STRONG = secrets.token_urlsafe(50)


def environment(**env: str) -> dict[str, str]:
    """The caller's environment without any settings of its own (no DJANGO_*, no SECRET_KEY)."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")
    }
    return {**base, **env}


def run(args: list[str], timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=environment(**env), capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_the_server_entry_points_default_to_the_production_settings(entry_point):
    finished = run(
        [
            sys.executable,
            "-c",
            f"import {entry_point}; from django.conf import settings; "
            "print(settings.SETTINGS_MODULE, settings.DEBUG, settings.LOG_FORMAT, "
            "settings.SESSION_COOKIE_SECURE)",
        ],
        SECRET_KEY=STRONG,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["config.settings.production", "False", "json", "True"]


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_an_entry_point_without_a_secret_key_stops_with_one_line(entry_point):
    finished = run([sys.executable, "-c", f"import {entry_point}"])
    assert finished.returncode != 0
    assert finished.stderr.strip().splitlines() == [
        "configuration error: SECRET_KEY must be set when DEBUG is off"
    ]


def test_manage_py_is_for_development_on_the_embedded_servers():
    finished = run(
        [sys.executable, "manage.py", "shell", "-c", "from django.conf import settings; "
         "print(settings.SETTINGS_MODULE, settings.DEBUG)"],
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split()[-2:] == ["config.settings.development", "True"]


def test_manage_py_pointed_at_real_servers_runs_with_the_production_settings():
    """A release job's migrate or create_api_user: no DEBUG, no made-up key."""
    url = "postgresql://app:secret@db.example/app"
    finished = run([sys.executable, "manage.py", "check"], DATABASE_URL=url)
    assert finished.returncode != 0
    assert finished.stderr.strip().splitlines() == [
        "configuration error: SECRET_KEY must be set when DEBUG is off"
    ]
    finished = run(
        [sys.executable, "manage.py", "shell", "-c", "from django.conf import settings; "
         "print(settings.SETTINGS_MODULE, settings.DEBUG)"],
        DATABASE_URL=url, SECRET_KEY=STRONG,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split()[-2:] == ["config.settings.production", "False"]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "abcde" * 10}, "SECRET_KEY"),
        ({"SECRET_KEY": STRONG, "GUNICORN_WORKERS": "two"}, "GUNICORN_WORKERS"),
        ({"SECRET_KEY": STRONG, "LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"SECRET_KEY": STRONG, "DATABASE_URL": "mysql://u:p@h/db"}, "DATABASE_URL"),
    ],
)
def test_gunicorn_stops_with_one_line_naming_the_variable(env, variable):
    """The master reads the settings (gunicorn.conf.py) before any worker starts."""
    import glob
    import tempfile

    folders = set(glob.glob(os.path.join(tempfile.gettempdir(), "metrics-*")))
    [port] = free_ports(1)
    finished = run([GUNICORN, "config.wsgi", "--bind", f"127.0.0.1:{port}"], **env)
    assert finished.returncode != 0
    # Nothing left behind (no metrics folder made before the settings were read).
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "metrics-*"))) <= folders
    lines = finished.stderr.strip().splitlines() + finished.stdout.strip().splitlines()
    assert len(lines) == 1, finished.stderr + finished.stdout
    assert lines[0].startswith("configuration error: ") and variable in lines[0]


def test_gunicorn_without_its_configuration_file_stops_too(tmp_path):
    """Started with another configuration, the workers meet the error: gunicorn stops (it does
    not start worker after failing worker), and the error is one line, with no traceback."""
    empty = tmp_path / "other.conf.py"
    empty.write_text("")
    [port] = free_ports(1)
    finished = run(
        [GUNICORN, "-c", str(empty), "config.wsgi", "--bind", f"127.0.0.1:{port}"], timeout=60
    )
    assert finished.returncode != 0
    output = finished.stderr + finished.stdout
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("configuration error:")]
    assert errors and all("SECRET_KEY" in line for line in errors)


@pytest.mark.parametrize(
    "key",
    [
        "abcde" * 10,  # Django's own deploy check takes it
        "abcdefghij" * 5,
        "x" * 64,
        "0123456789" * 6,
        "django-insecure-" + secrets.token_urlsafe(40),
        secrets.token_urlsafe(30),  # too short
        "correct horse battery staple " * 2,
        "a1b2" * 20,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA9876543210",
        "DJANGO-INSECURE-" + secrets.token_hex(20),
        # a de Bruijn sequence over two letters: no run repeats, 200 characters, 2 distinct
        "aaaaaaaabaaaaaabbaaaaababaaaaabbbaaaabaabaaaababbaaaabbabaaaabbbbaaabaaabbaaabab"
        "aaabababbaaabbaabbaaabbbabaaabbbbbaabaabbabaababababaabababbbaabbabbabaabbbabbaabb"
        "bbbabababbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    ],
)
def test_a_key_that_does_not_look_random_is_refused(key):
    assert weakness(key) is not None
    finished = run(
        [sys.executable, "manage.py", "check"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=key,
    )
    assert finished.returncode != 0
    [line] = finished.stderr.strip().splitlines()
    assert line.startswith("configuration error: SECRET_KEY ")
    assert key not in line  # the key itself is never printed


def test_check_deploy_fails_on_a_key_djangos_own_check_accepts():
    finished = run(
        [sys.executable, "manage.py", "check", "--deploy"],
        DJANGO_SETTINGS_MODULE="config.settings.development",
        SECRET_KEY="abcde" * 10,
    )
    assert finished.returncode != 0
    assert "core.E005" in finished.stderr and "SECRET_KEY" in finished.stderr
    assert "security.W009" not in finished.stderr  # Django's own check had nothing to say


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_urlsafe(50),
        lambda: secrets.token_hex(32),  # openssl rand -hex 32
        get_random_secret_key,
        lambda: secrets.token_urlsafe(38),  # 51 characters
        lambda: (
            __import__("base64").b64encode(secrets.token_bytes(48)).decode()
        ),  # openssl -base64 48
    ],
)
def test_random_keys_pass(make):
    assert all(weakness(make()) is None for _ in range(2000))
