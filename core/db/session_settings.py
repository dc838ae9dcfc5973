"""The documented session settings of each alias, what each session really has, and the statements
that give a role its settings.

``DATABASE_SESSION_SETTINGS`` (built by ``core.db.config``) says what each alias's sessions must
have. What a session has is read from ``pg_settings.reset_val``: the value the session starts
with (from libpq ``options``, the role, the database or the server), which a ``SET LOCAL`` does
not change. Behind PgBouncer in transaction mode the settings can only come from the roles and
the servers: ``role_statements()`` are the ``ALTER ROLE`` statements that give each role the
settings its aliases need (``manage.py session_settings --apply`` runs them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from core.db.config import PRIMARY
from core.db.probe import fetch

SETTINGS_SQL = "SELECT name, reset_val, coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)"

TIME_UNITS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
MEMORY_UNITS = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
TRUE = {"on", "true", "yes"}
FALSE = {"off", "false", "no"}
# Settings that a standby's own configuration may provide behind a pooler (a role's settings
# reach the primary as well, where they are not wanted).
SERVER_SETTINGS = frozenset({"lock_timeout"})


@dataclass(frozen=True)
class Mismatch:
    """One setting of one alias that differs from the documented value."""

    alias: str
    setting: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.alias}: {self.setting} is {self.actual}, expected {self.expected}"

    def as_dict(self) -> dict:
        return {
            "alias": self.alias,
            "setting": self.setting,
            "expected": self.expected,
            "actual": self.actual,
        }


def _normal(value: str, unit: str = "") -> str:
    """A comparable form of a setting's value: numbers in base units, booleans as on/off."""
    text = value.strip().strip("'")
    if text.lower() in TRUE:
        return "on"
    if text.lower() in FALSE:
        return "off"
    match = re.fullmatch(r"(-?[0-9.]+)\s*([a-zA-Z]*)", text)
    if match is None:
        return text.lower()
    number = float(match[1])
    # pg_settings gives the unit apart, sometimes with a factor ("8kB").
    scale = re.fullmatch(r"([0-9]*)([a-zA-Z]+)", match[2] or unit)
    if scale is not None:
        number *= float(scale[1] or 1)
        if scale[2] in TIME_UNITS:
            return f"{number * TIME_UNITS[scale[2]]:g}ms"
        if scale[2] in MEMORY_UNITS:
            return f"{number * MEMORY_UNITS[scale[2]]:g}B"
    return f"{number:g}"


def same_value(expected: str, reset_val: str, unit: str) -> bool:
    """Whether a session's ``reset_val`` (in ``unit``) is the documented ``expected`` value."""
    return _normal(expected) == _normal(reset_val, unit)


def effective(alias: str) -> dict[str, tuple[str, str]]:
    """``{setting: (reset_val, unit)}`` of the documented settings, read on ``alias`` itself."""
    wanted = list(settings.DATABASE_SESSION_SETTINGS[alias])
    return {name: (value, unit) for name, value, unit in fetch(alias, SETTINGS_SQL, [wanted])}


def mismatches(alias: str, found: dict[str, tuple[str, str]]) -> list[Mismatch]:
    """The documented settings of ``alias`` that ``found`` (from ``effective``) does not have."""
    differences = []
    for name, expected in settings.DATABASE_SESSION_SETTINGS[alias].items():
        value, unit = found.get(name, ("unknown", ""))
        if not same_value(expected, value, unit):
            differences.append(Mismatch(alias, name, expected, f"{value}{unit}"))
    return differences


def role_statements() -> list[tuple[str, str]]:
    """``(alias, statement)``: the ``ALTER ROLE`` statements that give each role its aliases'
    settings in this database, to run on the primary through that alias (a role may set its
    own defaults). Settings a standby's configuration provides (``SERVER_SETTINGS``) are left
    out. Raises ValueError when two aliases of one role need different values.
    """
    by_role: dict[str, tuple[str, dict[str, str]]] = {}
    for alias, wanted in settings.DATABASE_SESSION_SETTINGS.items():
        entry = settings.DATABASES[alias]
        role = entry["USER"] or "(default user)"
        role_settings = {k: v for k, v in wanted.items() if k not in SERVER_SETTINGS}
        if role not in by_role:
            by_role[role] = (alias, role_settings)
            continue
        first_alias, first = by_role[role]
        for name in role_settings.keys() | first.keys():
            if not same_value(role_settings.get(name, "unset"), first.get(name, "unset"), ""):
                raise ValueError(
                    f"{first_alias} and {alias} connect as the same role {role!r} but need "
                    f"different {name} ({first.get(name, 'unset')} and "
                    f"{role_settings.get(name, 'unset')}): give the ML sessions their own role "
                    "(ML_DATABASE_USER, ML_DATABASE_PASSWORD)"
                )
        first.update(role_settings)
    statements = []
    for _role, (alias, role_settings) in by_role.items():
        primary_alias = _primary_alias_for(alias)
        database = connections[primary_alias].settings_dict["NAME"]
        for name, value in role_settings.items():
            statements.append(
                (
                    primary_alias,
                    f"ALTER ROLE CURRENT_USER IN DATABASE {_quote(database)} SET {name} = '{value}'",
                )
            )
    return statements


def _primary_alias_for(alias: str) -> str:
    """An alias on the primary connecting as the same role as ``alias`` (role settings are set
    on the primary, and reach the standbys by replication).
    """
    user = settings.DATABASES[alias]["USER"]
    for candidate in (PRIMARY, "ml_primary"):
        if settings.DATABASES[candidate]["USER"] == user:
            return candidate
    raise ValueError(f"no alias reaches the primary as the role of {alias}")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
