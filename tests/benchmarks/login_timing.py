"""Prints how long sign-in takes for an unknown account, a wrong password and the right one.

Uses the production argon2id cost. The first two should be close: the response time must not tell
whether an account exists. Run: .venv/bin/python tests/benchmarks/login_timing.py [rounds]
"""

import statistics
import sys
import time

from portal import create_app
from portal.extensions import db
from portal.models import User
from portal.models.base import utcnow
from portal.services import passwords

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
PASSWORD = "correct horse battery staple"


def main() -> None:
    app = create_app("development", SECRET_KEY="benchmark", SQLALCHEMY_DATABASE_URI="sqlite://",
                     WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
        db.session.add(User(email="known@example.com", full_name="Known", email_verified_at=utcnow(),
                            password_hash=passwords.hash_password(PASSWORD)))
        db.session.commit()
    cases = {
        "unknown account": ("nobody@example.com", PASSWORD),
        "wrong password": ("known@example.com", "not the password at all"),
        "right password": ("known@example.com", PASSWORD),
    }
    print(f"argon2id time_cost={app.config['ARGON2_TIME_COST']} "
          f"memory={app.config['ARGON2_MEMORY_COST_KIB']} KiB, {ROUNDS} rounds each")
    for name, (email, password) in cases.items():
        timings = []
        for _ in range(ROUNDS):
            client = app.test_client()
            started = time.perf_counter()
            client.post("/login", data={"email": email, "password": password})
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{name:16} median {statistics.median(timings):7.1f} ms   "
              f"min {min(timings):7.1f} ms   max {max(timings):7.1f} ms")


if __name__ == "__main__":
    main()
