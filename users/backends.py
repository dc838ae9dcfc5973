"""Session authentication that reads the operator's account on the primary."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db import InterfaceError, OperationalError

from core.db import replicas
from users.models import User


class PrimaryModelBackend(ModelBackend):
    """Django's model backend, loading a session's user from the primary.

    The admin's session user is read on each request; from a standby, a deactivated operator or
    one who lost superuser rights would keep them until the standby replays the change. A
    standby answers only while the primary is down.
    """

    def get_user(self, user_id):
        if replicas.primary_reachable():
            try:
                user = User._default_manager.using("default").get(pk=user_id)
            except User.DoesNotExist:
                return None
            except (OperationalError, InterfaceError):
                return super().get_user(user_id)
            return user if self.user_can_authenticate(user) else None
        return super().get_user(user_id)
