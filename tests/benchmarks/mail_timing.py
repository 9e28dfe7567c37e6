"""Prints how long /forgot-password takes for a known and an unknown address while the mail server
takes 5 seconds to answer, and how many connections the requests made to it (none: the outbox
worker delivers later).

The two request times should be the same (within 20%): a request only writes one password-reset
request row, the same for every address, and the outbox worker later finds out whether an account has
it; so the request neither waits on the mail server nor tells by its time whether an account exists. The mail server is
a small SMTP listener on 127.0.0.1 that waits before its greeting.
Run: .venv/bin/python tests/benchmarks/mail_timing.py [rounds] [delay seconds]
"""

import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from portal import create_app
from portal.extensions import db
from portal.models import User
from portal.models.base import utcnow

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0


def slow_smtp_server(delay: float) -> tuple[int, list[float]]:
    """An SMTP server that waits ``delay`` seconds before greeting; returns its port and, as they come,
    the times at which it accepted connections."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[float] = []

    def serve(connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as lines:
            time.sleep(delay)
            connection.sendall(b"220 slow.example ESMTP\r\n")
            in_data = False
            for line in lines:
                if in_data:
                    if line == b".\r\n":
                        in_data = False
                        connection.sendall(b"250 queued\r\n")
                    continue
                command = line[:4].upper()
                if command == b"DATA":
                    in_data = True
                    connection.sendall(b"354 go on\r\n")
                elif command == b"QUIT":
                    connection.sendall(b"221 bye\r\n")
                    return
                else:
                    connection.sendall(b"250 ok\r\n")

    def accept_forever() -> None:
        while True:
            connection, _ = listener.accept()
            accepted.append(time.perf_counter())
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept_forever, daemon=True).start()
    return listener.getsockname()[1], accepted


def main() -> None:
    port, accepted = slow_smtp_server(DELAY)
    folder = Path(tempfile.mkdtemp())
    app = create_app("development", SECRET_KEY="benchmark", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'b.db'}",
                     WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                     MAIL_USE_TLS=False)
    with app.app_context():
        db.create_all()
        db.session.add(User(email="known@example.com", full_name="Known", email_verified_at=utcnow(),
                            password_hash="not used here"))
        db.session.commit()
    client = app.test_client()
    times: dict[str, list[float]] = {"known address": [], "unknown address": []}
    for _ in range(ROUNDS):
        for label, email in (("known address", "known@example.com"), ("unknown address", "nobody@example.com")):
            started = time.perf_counter()
            response = client.post("/forgot-password", data={"email": email})
            times[label].append(time.perf_counter() - started)
            assert response.status_code == 302, response.status_code
    medians = {label: statistics.median(values) for label, values in times.items()}
    print(f"/forgot-password with a mail server that takes {DELAY:g} s to answer, {ROUNDS} rounds (median):")
    for label, median in medians.items():
        print(f"  {label:16} {median * 1000:8.2f} ms   (max {max(times[label]) * 1000:.2f} ms)")
    ratio = medians["known address"] / medians["unknown address"]
    print(f"  known / unknown: {ratio:.2f} ({'within' if 0.8 <= ratio <= 1.25 else 'NOT within'} 20%)")
    print(f"  connections to the mail server during the requests: {len(accepted)}")


if __name__ == "__main__":
    main()
