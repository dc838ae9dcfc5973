"""gunicorn's settings for this service, read by ``gunicorn config.wsgi`` run in the checkout.

Options given on the command line (or in ``GUNICORN_CMD_ARGS``) win over these. Each value comes
from the Django settings, so the environment variables are read and checked in one place
(``config/settings/base.py``), and a configuration error stops the master with one line before
any worker starts.

- ``workers``: ``GUNICORN_WORKERS`` (2) sync workers.
- ``timeout``: 30 s above the statement timeout (``DB_STATEMENT_TIMEOUT_MS``, 30 s): a slow query
  is answered by PostgreSQL (a 503 that says so), never cut short by killing its worker.
- SIGTERM: ``/health/ready`` answers 503 for ``DRAIN_SECONDS`` (10 s; 0 with DEBUG on) while
  every request is still served (``core.lifecycle``); then gunicorn closes its sockets and gives
  the workers ``GRACEFUL_TIMEOUT`` (15 s) to finish theirs. Keep the sum under the orchestrator's
  kill deadline (Kubernetes: ``terminationGracePeriodSeconds``, 30 s). SIGINT stops at once.
- Logging: gunicorn's own lines in the service's format (``LOG_FORMAT``: JSON lines in
  production); no access log (the request log has a line per request), unless asked for with
  ``--access-logfile -``, in the same format.
- Garbage collection: each worker, once it has loaded the application, freezes what the imports
  left and collects young objects less often (``config.startup.tune_collector``).
- Metrics: workers write their counters to ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary
  folder unless set, removed at exit), summed by whichever worker is scraped.
"""

import glob
import os
import shutil
import tempfile

from config import startup
from core import lifecycle  # the drain flag: shared memory made before the fork

# The settings first: a configuration error stops here, with one line, leaving nothing behind.
settings = startup.load_settings()

# Before anything imports prometheus_client (it chooses where values live when imported). A folder
# made here is marked, so that it is removed at exit even after a reload (SIGHUP re-reads this
# file, with the variable set by then).
MADE_HERE = ".made-by-gunicorn-conf"
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _metrics_dir:
    _metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="metrics-")
    open(os.path.join(_metrics_dir, MADE_HERE), "w").close()
_made_metrics_dir = os.path.exists(os.path.join(_metrics_dir, MADE_HERE))

from prometheus_client import multiprocess  # noqa: E402  (here: child_exit runs in a signal handler)

wsgi_app = "config.wsgi:application"
workers = settings.GUNICORN_WORKERS
timeout = settings.DB_STATEMENT_TIMEOUT_MS // 1000 + 30
graceful_timeout = round(settings.GRACEFUL_TIMEOUT)
logger_class = "core.logs.GunicornLogger"
loglevel = settings.LOG_LEVEL.lower()
errorlog = "-"
# gunicorn's largest: a long "any of" filter list fits (the default, 4094, answered with
# gunicorn's own HTML 400).
limit_request_line = 8190


def on_starting(server):
    server.log.info("metrics folder: %s", _metrics_dir)
    os.makedirs(_metrics_dir, exist_ok=True)
    if not _made_metrics_dir:
        # A folder of the operator's: the last run's counters would be summed with these.
        for stale in glob.glob(os.path.join(_metrics_dir, "*.db")):
            os.remove(stale)


def pre_fork(server, worker):
    # A worker cannot start without the folder (a temporary-files cleaner may have removed it).
    os.makedirs(_metrics_dir, exist_ok=True)


def post_worker_init(worker):
    # The application is loaded: tune the collector for serving (config/startup.py).
    startup.tune_collector()


def when_ready(server):
    lifecycle.install_drain(server, settings.DRAIN_SECONDS)


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    # Not while handing over to a new master (SIGUSR2): its workers use the folder.
    if _made_metrics_dir and not server.reexec_pid:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
