"""The production layout's files: nginx accepts the configuration deploy/local.py writes, and `down` stops only
processes the layout started (a pid file pointing at someone else's process is left alone)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_service

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
import local


@pytest.fixture
def layout(tmp_path):
    return local.Layout(run=tmp_path, port=18400, workers=2)


def test_nginx_accepts_the_layouts_configuration(layout):
    if not shutil.which("nginx") and not Path(local.NGINX).exists():
        require_service("nginx", "Debian's nginx package is not installed")
    config = local.nginx_config(layout, {"STATIC_MAX_AGE": "3600"})
    site = (layout.run / "nginx" / "portal.conf").read_text()
    assert "@@" not in site
    for port in layout.app_ports:
        assert f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" in site
    (layout.run / "logs").mkdir()
    checked = subprocess.run([local.NGINX, "-t", "-p", str(layout.run / "nginx"), "-c", str(config),
                              "-g", "daemon off;"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_a_pid_file_naming_another_process_is_not_the_layouts(layout):
    layout.pid_file("worker").parent.mkdir(parents=True)
    layout.pid_file("worker").write_text(str(os.getpid()))  # this test's own process: not `flask jobs work`
    assert local.pid_of(layout, "worker") is None
    assert local.stop(layout, "worker") is False  # nothing is signalled
    assert not layout.pid_file("worker").exists()


def test_a_process_the_layout_started_is_found_and_stopped_by_its_pid(layout):
    env = dict(os.environ)
    layout.log("scheduler").parent.mkdir(parents=True)
    # a stand-in with the scheduler's command line, so that the test needs no Redis
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "jobs", "schedule"],
                               start_new_session=True, env=env)
    layout.pid_file("scheduler").parent.mkdir(parents=True, exist_ok=True)
    layout.pid_file("scheduler").write_text(str(sleeper.pid))
    for _ in range(100):  # until the child has replaced this process's command line with its own
        if local.pid_of(layout, "scheduler"):
            break
        time.sleep(0.05)
    assert local.pid_of(layout, "scheduler") == sleeper.pid
    assert local.stop(layout, "scheduler", timeout=10)
    assert not local.alive(sleeper.pid)
    sleeper.wait(timeout=5)  # reaped already by stop(); lets Popen know


def test_the_connection_pool_of_each_process_comes_from_the_environment():
    from portal import create_app
    from portal.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://portal@db.invalid/portal",
                     DATABASE_POOL_SIZE=3, DATABASE_MAX_OVERFLOW=1)
    with app.app_context():  # the engine is made without connecting
        assert (db.engine.pool.size(), db.engine.pool._max_overflow) == (3, 1)  # type: ignore[attr-defined]
        db.engine.dispose()
    sqlite = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", DATABASE_POOL_SIZE=3)
    assert "pool_size" not in sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"]  # SQLite keeps its own pool
