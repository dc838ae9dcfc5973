"""System checks for settings that only make sense together."""

from django.conf import settings
from django.core.checks import Warning, register

from core.db.session_settings import role_statements


@register()
def replica_pin_covers_lag(app_configs, **kwargs) -> list[Warning]:
    """Once a user's write position is forgotten, only the lag limit keeps their reads fresh: a
    usable standby has replayed every commit older than ``REPLICA_MAX_LAG_SECONDS``.
    """
    if settings.REPLICA_PIN_SECONDS < settings.REPLICA_MAX_LAG_SECONDS + 1:
        return [
            Warning(
                "REPLICA_PIN_SECONDS is shorter than REPLICA_MAX_LAG_SECONDS + 1: a user may "
                "read their own write from a standby that has not replayed it yet.",
                hint="Raise REPLICA_PIN_SECONDS or lower REPLICA_MAX_LAG_SECONDS.",
                id="core.W001",
            )
        ]
    return []


@register()
def pooled_roles_can_hold_their_settings(app_configs, **kwargs) -> list[Warning]:
    """Behind PgBouncer in transaction mode, session settings come from the roles: aliases that
    need different settings must connect as different roles.
    """
    if settings.DATABASE_POOL_MODE != "transaction":
        return []
    try:
        role_statements()
    except ValueError as error:
        return [
            Warning(
                str(error),
                hint="See README, 'Behind a connection pooler'.",
                id="core.W002",
            )
        ]
    return []
