"""What gunicorn serves during the benchmark: the project (as ``config.wsgi`` serves it), the
baseline, and the floor."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from config.wsgi import application as django_application

FLOOR_PREFIX = "/bench/floor/"
_floor = None


def application(environ: dict, start_response):
    """The floor under ``/bench/floor/``, Django (project + baseline) everywhere else."""
    global _floor
    if environ.get("PATH_INFO", "").startswith(FLOOR_PREFIX):
        if _floor is None:
            from bench.floor import IssueFloor

            _floor = IssueFloor()
        return _floor.wsgi(environ, start_response)
    return django_application(environ, start_response)
