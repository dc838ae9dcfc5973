"""What gunicorn serves during the benchmark: the project (as ``config.wsgi`` serves it), the
baseline, the floor, and the floor with the guarantees (``bench.guarded``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from config.wsgi import application as django_application

FLOOR_PREFIX = "/bench/floor/"
GUARDED_PREFIX = "/bench/guarded/"
_floors = {}


def _floor(prefix: str):
    """The floor app of ``prefix``, made on its first request (in the worker, after the fork)."""
    if prefix not in _floors:
        from bench.floor import IssueFloor
        from bench.guarded import GuardedFloor

        _floors[prefix] = IssueFloor() if prefix == FLOOR_PREFIX else GuardedFloor()
    return _floors[prefix]


def application(environ: dict, start_response):
    """The floor under ``/bench/floor/``, the guarded floor under ``/bench/guarded/``, Django
    (project + baseline) everywhere else."""
    path = environ.get("PATH_INFO", "")
    for prefix in (FLOOR_PREFIX, GUARDED_PREFIX):
        if path.startswith(prefix):
            return _floor(prefix).wsgi(environ, start_response)
    return django_application(environ, start_response)
