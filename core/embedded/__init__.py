"""Development tooling: the embedded PostgreSQL primary and streaming standby (``make run``,
``make test``), the binaries they run from, and the servers the topology drills start.

Nothing the service runs in production imports this package: the settings load it only when
``DATABASE_URL`` is unset, and the ``embedded_db`` command and the tests when they use it.
"""
