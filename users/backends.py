"""Session authentication that reads the operator's account on the primary."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from core.db.router import primary_first
from users.models import User


class PrimaryModelBackend(ModelBackend):
    """Django's model backend, loading a session's user from the primary.

    The admin's session user is read on each request; from a standby, a deactivated operator or
    one who lost superuser rights would keep them until the standby replays the change. A
    standby answers only while the primary is down.
    """

    def get_user(self, user_id):
        user, _ = primary_first(
            lambda alias: User._default_manager.using(alias).filter(pk=user_id).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
