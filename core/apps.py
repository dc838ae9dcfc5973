"""Cross-cutting pieces: tenancy, database routing, embedded PostgreSQL, API base classes."""

import logging

from django.apps import AppConfig
from django.core.signals import request_finished


class CoreConfig(AppConfig):
    """Core app: connects the query guard, pgvector's types and the system checks; Python's
    warnings become log lines (``py.warnings``), in the service's format like every other."""

    name = "core"
    verbose_name = "Tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import checks, logs  # noqa: F401
        from core.db import binary_reads, failover

        binary_reads.connect_signals()
        failover.connect_signals()
        logging.captureWarnings(True)
        logs.stamp_request_ids()
        request_finished.connect(logs.forget_request_id, dispatch_uid="core.logs.forget")
