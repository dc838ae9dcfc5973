"""The health report's view of session settings: each alias against its documented settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from core.db import replicas
from core.db.probe import ProbeFailed
from core.db.session_settings import Mismatch, effective, mismatches


@dataclass
class SessionSettingsSection:
    """Which aliases were read, and every difference from the documented settings."""

    checked: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    differences: list[Mismatch] = field(default_factory=list)
    # Aliases that failed while their server is up (a role that cannot log in, say).
    failing: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.differences:
            return "differs"
        return "ok" if not self.unreachable else "partial"

    @property
    def problems(self) -> list[str]:
        return [str(difference) for difference in self.differences] + self.failing

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "checked": self.checked,
            "unreachable": self.unreachable,
            "differences": [difference.as_dict() for difference in self.differences],
        }


def session_settings_section(*, primary_up: bool) -> SessionSettingsSection:
    """Read the effective settings of every alias whose server is up, and compare."""
    section = SessionSettingsSection()
    for alias in settings.DATABASE_SESSION_SETTINGS:
        server = replicas.server_of(alias)
        if (server is None and not primary_up) or (server is not None and replicas.is_down(server)):
            section.unreachable.append(alias)
            continue
        try:
            found = effective(alias)
        except ProbeFailed as failed:
            section.unreachable.append(alias)
            if server is None or not replicas.is_down(server):
                section.failing.append(f"{alias}: session settings unreadable ({failed.reason})")
            continue
        section.checked.append(alias)
        section.differences += mismatches(alias, found)
    return section
