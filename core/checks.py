"""System checks: settings that only make sense together, and the API's contracts, checked when
the service starts (``migrate``, ``check``, ``runserver``) rather than by a first request."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

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


@register()
def no_atomic_requests(app_configs, **kwargs) -> list[Error]:
    return atomic_requests_errors(settings.DATABASES)


def atomic_requests_errors(databases: dict) -> list[Error]:
    """``ATOMIC_REQUESTS`` opens a transaction on the primary around every view: every read, ML
    included, would go to the primary (router rule 2), silently."""
    return [
        Error(
            f"DATABASES[{alias!r}] sets ATOMIC_REQUESTS: every request's reads would go to the "
            "primary, and no standby would serve any.",
            hint="Remove it; writes already run in one transaction each (core.api.viewsets).",
            id="core.E001",
        )
        for alias, database in databases.items()
        if database.get("ATOMIC_REQUESTS")
    ]


@register()
def api_contracts(app_configs, **kwargs) -> list[Error]:
    from core.api.viewsets import api_viewsets

    return viewset_contract_errors(api_viewsets())


def viewset_contract_errors(viewsets) -> list[Error]:
    """What each viewset promises and the code cannot keep:

    - core.E002: its serializer opts in to lists from plain rows (``list_from_rows``) but the row
      plan cannot honour it (``core.api.rows.plan_problems``);
    - core.E003: it orders by something other than a column of its own table (a related path
      such as ``project__key``): offset pages would join, cursor pages could not key on it.
    """
    from core.api.rows import plan_problems

    errors = []
    for viewset in viewsets:
        serializer = viewset.serializer_class
        if getattr(serializer, "list_from_rows", False):
            variants = (False, True) if viewset.has_ml_fields() else (False,)
            problems = dict.fromkeys(p for ml in variants for p in plan_problems(serializer, ml))
            errors += [
                Error(
                    f"{viewset.__name__}: {serializer.__name__} sets list_from_rows, but "
                    f"{problem}.",
                    hint="Drop list_from_rows (lists then use the serializer) or make the "
                    "field a plain column.",
                    obj=serializer,
                    id="core.E002",
                )
                for problem in problems
            ]
        columns = {field.attname for field in viewset.queryset.model._meta.concrete_fields}
        names = {*viewset.ordering_fields, *(term.lstrip("-") for term in viewset.ordering)}
        errors += [
            Error(
                f"{viewset.__name__} orders by {name!r}, not a column of "
                f"{viewset.queryset.model._meta.db_table}.",
                hint="Order by the table's own columns (a foreign key by its *_id column).",
                obj=viewset,
                id="core.E003",
            )
            for name in sorted(names - columns)
        ]
    return errors


@register()
def tenant_models_stamp_their_writes(app_configs, **kwargs) -> list[Error]:
    """A tenant table without the stamp trigger (``core.changes``) would keep ``change_xid`` at
    0: its sync listing would serve no change, and plain SQL updates would not move
    ``last_updated_at``."""
    from core.changes import STAMP_TRIGGER
    from core.registry import tenant_models

    return [
        Error(
            f"{model._meta.label} does not declare the row stamp trigger.",
            hint="Add core.changes.row_stamp_trigger() to its Meta.triggers.",
            obj=model,
            id="core.E004",
        )
        for model in tenant_models()
        if not any(t.name == STAMP_TRIGGER for t in getattr(model._meta, "triggers", ()))
    ]


@register(Tags.security, deploy=True)
def secret_key_looks_random(app_configs, **kwargs) -> list[Error]:
    """``check --deploy`` fails on a key that Django's own check lets through (core.secret_key)."""
    from core.secret_key import ADVICE, weakness

    problem = weakness(str(settings.SECRET_KEY))
    if problem is None:
        return []
    return [Error(f"SECRET_KEY {problem}.", hint=ADVICE, id="core.E005")]
