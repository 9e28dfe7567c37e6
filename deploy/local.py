"""The production layout on one machine: nginx on a loopback port in front of three gunicorn app servers, the
job worker and the job scheduler, against PostgreSQL and Redis.

    .venv/bin/python deploy/local.py up       # prepares the database and static files, starts everything
    .venv/bin/python deploy/local.py status   # each process alive? each app server ready (/readyz)?
    .venv/bin/python deploy/local.py down     # stops exactly what `up` started (its pid files)

(`make prod-local` runs `up`.) Settings come from the environment: DATABASE_URL (default: a local database
``portal_prod_local`` on 127.0.0.1, created if missing), REDIS_URL (default ``redis://127.0.0.1:6379/0``),
PROD_LOCAL_PORT (nginx, default 8088; the app servers take the three ports after it), PROD_LOCAL_DIR (pid
files, logs and nginx's files, default ``instance/prod-local``), APP_WORKERS (gunicorn workers per app server,
default 2), DATABASE_POOL_SIZE (default 2) and DATABASE_MAX_OVERFLOW (default 1). SECRET_KEY and
MFA_ENCRYPTION_KEY are generated once into that folder unless set. Logs are JSON lines (LOG_FORMAT=json), one
file per process in the folder's ``logs/``; nginx's access log has each request's id, as the app's lines do.
"""

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
APP_SERVERS = 3
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_prod_local"


@dataclass(frozen=True)
class Layout:
    run: Path
    port: int
    workers: int

    @property
    def app_ports(self) -> list[int]:
        return [self.port + n for n in range(1, APP_SERVERS + 1)]

    @property
    def names(self) -> list[str]:
        """Every process, in the order they start (and stop in reverse)."""
        return [*(f"app{n}" for n in range(1, APP_SERVERS + 1)), "worker", "scheduler", "nginx"]

    def pid_file(self, name: str) -> Path:
        return self.run / "pids" / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.run / "logs" / f"{name}.log"


def layout() -> Layout:
    run = Path(os.environ.get("PROD_LOCAL_DIR", ROOT / "instance" / "prod-local")).resolve()
    return Layout(run=run, port=int(os.environ.get("PROD_LOCAL_PORT", "8088")),
                  workers=int(os.environ.get("APP_WORKERS", "2")))


def _kept(path: Path, make) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def environment(lay: Layout) -> dict[str, str]:
    """What every process of the layout runs with."""
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE)
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.setdefault("SECRET_KEY", _kept(lay.run / "secret_key", lambda: secrets.token_hex(32)))
    env.setdefault("MFA_ENCRYPTION_KEY", _kept(lay.run / "mfa_key", lambda: Fernet.generate_key().decode()))
    env.setdefault("DATABASE_POOL_SIZE", "2")
    env.setdefault("DATABASE_MAX_OVERFLOW", "1")
    env.setdefault("PORTAL_URL", f"http://127.0.0.1:{lay.port}")
    env.update(PORTAL_ENV="production", LOG_FORMAT="json", PROXY_COUNT="1", PYTHONUNBUFFERED="1")
    return env


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def create_database_if_missing(url: str) -> None:
    """Create the default local database when it is missing (another DATABASE_URL must exist already)."""
    if url != DEFAULT_DATABASE:
        return
    name = url.rsplit("/", 1)[1]
    exists = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
                             f"SELECT 1 FROM pg_database WHERE datname = '{name}'", "postgres"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def prepare(lay: Layout, env: dict[str, str]) -> None:
    """The release's steps: migrate, seed, hashed static files."""
    create_database_if_missing(env["DATABASE_URL"])
    flask(env, "db", "upgrade")
    flask(env, "seed")
    flask(env, "digest", "compile")


def nginx_config(lay: Layout, env: dict[str, str]) -> Path:
    """deploy/nginx-portal.conf filled in, inside a main configuration of this layout's own."""
    servers = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in lay.app_ports)
    snippet = (ROOT / "deploy" / "nginx-portal.conf").read_text()
    for name, value in {"SERVERS": servers, "LISTEN": f"127.0.0.1:{lay.port}", "STATIC": str(ROOT / "static"),
                        "ACCESS_LOG": str(lay.log("nginx-access")),
                        "STATIC_MAX_AGE": env.get("STATIC_MAX_AGE", "3600")}.items():
        snippet = snippet.replace(f"@@{name}@@", value)
    (lay.run / "nginx").mkdir(parents=True, exist_ok=True)
    (lay.run / "nginx" / "portal.conf").write_text(snippet)
    temp = lay.run / "nginx" / "temp"
    main = f"""# Written by deploy/local.py; the portal's part is portal.conf (from deploy/nginx-portal.conf).
worker_processes 1;
pid {lay.run / "nginx" / "nginx.pid"};
error_log {lay.log("nginx-error")} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 30s;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {lay.run / "nginx" / "portal.conf"};
}}
"""
    temp.mkdir(exist_ok=True)
    path = lay.run / "nginx" / "nginx.conf"
    path.write_text(main)
    return path


def command(lay: Layout, name: str) -> list[str]:
    if name.startswith("app"):
        port = lay.app_ports[int(name[3:]) - 1]
        # access log off: nginx logs each request, and the app writes a JSON line per request with its id
        return [str(PYTHON), "-m", "gunicorn", "--workers", str(lay.workers), "--bind", f"127.0.0.1:{port}",
                "--timeout", "60", "--graceful-timeout", "20", "--log-level", "warning", "wsgi:app"]
    if name == "worker":
        return [*FLASK, "jobs", "work"]
    if name == "scheduler":
        return [*FLASK, "jobs", "schedule"]
    config = lay.run / "nginx" / "nginx.conf"
    return [NGINX, "-p", str(lay.run / "nginx"), "-c", str(config), "-g", "daemon off;"]


def pid_of(lay: Layout, name: str) -> int | None:
    """The pid in ``name``'s pid file if that process is still the one this layout started, else None."""
    path = lay.pid_file(name)
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    return pid if signature(lay, name) in cmdline else None


def signature(lay: Layout, name: str) -> str:
    """A part of the command line that only this layout's ``name`` has (against a pid used again)."""
    if name.startswith("app"):
        return f"--bind 127.0.0.1:{lay.app_ports[int(name[3:]) - 1]}"
    if name == "nginx":
        return str(lay.run)
    return f"jobs {'work' if name == 'worker' else 'schedule'}"


def start(lay: Layout, env: dict[str, str], name: str) -> int:
    """Start one process in a session of its own (so that a signal to this script does not reach it) and
    keep its pid in its pid file."""
    if pid_of(lay, name):
        raise SystemExit(f"{name} is running already (pid {pid_of(lay, name)}); `down` first")
    lay.log(name).parent.mkdir(parents=True, exist_ok=True)
    lay.pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    with lay.log(name).open("ab") as log:
        process = subprocess.Popen(command(lay, name), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    lay.pid_file(name).write_text(str(process.pid))
    return process.pid


def answers(url: str, timeout: float = 2) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode().splitlines()[0]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode().splitlines()[0] if error.fp else ""
    except OSError as error:
        return 0, str(error)


def wait_ready(lay: Layout, name: str, timeout: float = 60) -> None:
    url = health_url(lay, name)
    pid = int(lay.pid_file(name).read_text())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            raise SystemExit(f"{name} exited; see {lay.log(name)}")
        if url is None or answers(url)[0] == 200:
            return
        time.sleep(0.3)
    raise SystemExit(f"{name} was not ready within {timeout:.0f} s; see {lay.log(name)}")


def alive(pid: int) -> bool:
    """The process runs (a child of ours that exited is reaped here)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    except ChildProcessError:
        pass
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    except OSError:
        return False


def health_url(lay: Layout, name: str) -> str | None:
    if name.startswith("app"):
        return f"http://127.0.0.1:{lay.app_ports[int(name[3:]) - 1]}/readyz"
    if name == "nginx":
        return f"http://127.0.0.1:{lay.port}/healthz"
    return None


def up(prepare_first: bool = True) -> Layout:
    lay = layout()
    env = environment(lay)
    if prepare_first:
        prepare(lay, env)
    nginx_config(lay, env)
    started: list[str] = []
    try:
        for name in lay.names:
            start(lay, env, name)
            started.append(name)
        for name in lay.names:
            wait_ready(lay, name)
    except BaseException:
        stop_all(lay, started)
        raise
    print(f"Up: http://127.0.0.1:{lay.port}/ (nginx) in front of app servers on ports "
          f"{', '.join(map(str, lay.app_ports))}, the worker and the scheduler; logs in {lay.run / 'logs'}.")
    return lay


# How each process stops cleanly: gunicorn and the job processes finish what they hold on SIGTERM; nginx
# finishes its open requests on SIGQUIT.
STOP_SIGNAL = {"nginx": signal.SIGQUIT}


def stop(lay: Layout, name: str, timeout: float = 30) -> bool:
    """Stop one process this layout started, cleanly, by its pid (SIGKILL to its group after ``timeout``)."""
    pid = pid_of(lay, name)
    lay.pid_file(name).unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, STOP_SIGNAL.get(name, signal.SIGTERM))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    return True


def stop_all(lay: Layout, names: list[str] | None = None) -> None:
    for name in reversed(names if names is not None else lay.names):
        if stop(lay, name):
            print(f"stopped {name}")


def status(lay: Layout) -> bool:
    healthy = True
    for name in lay.names:
        pid = pid_of(lay, name)
        url = health_url(lay, name)
        state = "not running"
        if pid is not None:
            state = f"running (pid {pid})"
            if url is not None:
                code, first_line = answers(url)
                state += f", {url.rsplit('/', 1)[1]}: {code} {first_line}"
                healthy = healthy and code == 200
        else:
            healthy = False
        print(f"{name:10} {state}")
    return healthy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--no-prepare", action="store_true", help="up: skip migrate, seed and digest compile")
    args = parser.parse_args()
    if args.action == "up":
        up(prepare_first=not args.no_prepare)
    elif args.action == "down":
        stop_all(layout())
    elif not status(layout()):
        sys.exit(1)


if __name__ == "__main__":
    main()
