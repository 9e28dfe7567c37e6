"""Prints Lighthouse (mobile) scores for the five pages the front end is held to, served as in production.

Makes a fresh SQLite database with the demonstration network, compiles the hashed static files, starts
gunicorn on a loopback port, runs frontend/lighthouse.mjs against it (npm packages from frontend/, Debian's
Chromium), and stops the server it started. Needs Node.js and npm.
Run: .venv/bin/python tests/benchmarks/lighthouse.py [port]
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 5091


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{work}/portal.db", "SECRET_KEY": "lighthouse-benchmark",
               "PORTAL_ENV": "development", "FLASK_APP": "wsgi"}
        env.pop("REDIS_URL", None)
        for command in (["db", "upgrade"], ["seed"], ["demo"], ["digest", "compile"]):
            subprocess.run([str(BIN / "flask"), *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--silent"],
                       cwd=ROOT / "frontend", check=True)
        server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{PORT}", "wsgi:app"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            subprocess.run(["node", "lighthouse.mjs", f"http://127.0.0.1:{PORT}"], cwd=ROOT / "frontend", check=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
