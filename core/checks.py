"""System checks for settings that only make sense together."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def replica_pin_covers_lag(app_configs, **kwargs) -> list[Warning]:
    """Read-your-writes holds only while a user stays pinned longer than a usable standby lags."""
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
