"""Configuration classes; every setting can come from the environment."""

import os
from pathlib import Path
from typing import ClassVar

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def database_url() -> str:
    """Return DATABASE_URL with the psycopg 3 driver, or the embedded SQLite file."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'portal.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url()
    # Connections each process keeps open (DATABASE_POOL_SIZE) and may open beyond them at a peak
    # (DATABASE_MAX_OVERFLOW): see the connection budget in the README. SQLite ignores them.
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, object]] = {"pool_pre_ping": True}
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "5"))
    DATABASE_MAX_OVERFLOW = int(os.environ.get("DATABASE_MAX_OVERFLOW", "10"))
    # "json" writes one JSON object per log line (with each request's id, method, path, status, duration and
    # user); anything else the usual human format.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "human")
    REDIS_URL = os.environ.get("REDIS_URL")
    # Keys in the shared cache start with this; give each deployment sharing one Redis its own.
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "portal")

    # Seconds to wait for Redis to connect or answer. Redis only shares and speeds things up here, so a
    # Redis that is down or slow must not hold a request: past this the request goes on without it.
    REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "0.5"))

    # Seconds an app server may answer a reader who is not signed in from the version of the figures it
    # read last (see snapshot.version): public readers may see a change this much later. 0 asks every time.
    SNAPSHOT_VERSION_HOLD = float(os.environ.get("SNAPSHOT_VERSION_HOLD", "1"))

    # Rate limits are shared between app servers through Redis when it is configured; while Redis does
    # not answer, each process counts in its own memory (with a warning in the log) and goes back to
    # Redis when it answers again.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_STORAGE_OPTIONS: ClassVar[dict[str, object]] = {"socket_connect_timeout": REDIS_TIMEOUT,
                                                              "socket_timeout": REDIS_TIMEOUT}
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "50 per 15 minutes")
    EMAIL_LIMIT_PER_ADDRESS = os.environ.get("EMAIL_LIMIT_PER_ADDRESS", "20 per hour")

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    # Server-side session records end after this long unused, and this long after sign-in in any case.
    SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
    SESSION_ABSOLUTE_LIFETIME = int(os.environ.get("SESSION_ABSOLUTE_LIFETIME", str(12 * 60 * 60)))
    # A second factor proved this recently lets a person verify receipts, record federal money and
    # change who administers an institute without being asked again.
    STEP_UP_MAX_AGE = 15 * 60
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")  # per token, or per address without one
    # The largest request body accepted (an import file and its form); larger ones are answered 413.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 26 * 1024 * 1024))
    # Fernet keys (comma-separated, the first encrypts) for authenticator secrets at rest; production must
    # set it, development derives one from SECRET_KEY. See portal/models/encryption.py.
    MFA_ENCRYPTION_KEY = os.environ.get("MFA_ENCRYPTION_KEY")
    # argon2id for recovery codes: 80 random bits need no more than OWASP's first setting (19 MiB, 2 passes).
    RECOVERY_ARGON2_TIME_COST = 2
    RECOVERY_ARGON2_MEMORY_COST_KIB = 19 * 1024
    HSTS = False
    # Seconds browsers keep a static file whose name does not carry its content's hash (fonts, and every
    # file before `flask digest compile` has run); hashed names are kept a year.
    STATIC_MAX_AGE = int(os.environ.get("STATIC_MAX_AGE", str(60 * 60)))
    # Pages name the hashed copies listed in static/cache_manifest.json when it exists.
    STATIC_MANIFEST = True

    WTF_CSRF_TIME_LIMIT = 60 * 60 * 4

    # argon2id cost; OWASP's first recommended setting is 19 MiB, 2 passes. We use more memory.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST_KIB = 64 * 1024
    ARGON2_PARALLELISM = 2

    EMAIL_VERIFY_MAX_AGE = 60 * 60 * 48
    PASSWORD_RESET_MAX_AGE = 60 * 60

    # Where the portal is reached; links in mail sent by commands (not requests) start with it.
    PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:5000")

    # Who runs this deployment, for the identifier at the foot of every page. OFFICIAL_SITE shows the
    # "official website of the United States government" banner; only a federal deployment may set it.
    OFFICIAL_SITE = env_flag("OFFICIAL_SITE", False)
    OPERATOR_NAME = os.environ.get("OPERATOR_NAME", "the Manufacturing Innovation Network")
    OPERATOR_URL = os.environ.get("OPERATOR_URL")  # the "About" link, when set
    FOIA_URL = os.environ.get("FOIA_URL")  # the operator's FOIA page, when it has one
    NO_FEAR_URL = os.environ.get("NO_FEAR_URL")  # the operator's No FEAR Act data, when it has any
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL")  # questions on accessibility and privacy
    SECURITY_CONTACT = os.environ.get("SECURITY_CONTACT")  # where vulnerabilities are reported
    # A federal operator's codes for /data.json (DCAT-US v1.1): bureauCode from OMB Circular A-11 Appendix C
    # ("015:11"), programCode from the Federal Program Inventory ("015:001"); several separated by commas.
    # Left unset, the catalog leaves them out, as the schema for non-federal publishers does.
    DCAT_BUREAU_CODE = os.environ.get("DCAT_BUREAU_CODE")
    DCAT_PROGRAM_CODE = os.environ.get("DCAT_PROGRAM_CODE")

    # The hour (UTC, 0 to 23) from which the daily jobs run (`flask jobs schedule`, or `flask jobs work` without
    # Redis); 24 or more turns them off (run them with `flask jobs run NAME` or the daily commands instead).
    # Enqueue a delivery of the outbox after each commit that queued mail (with REDIS_URL; tests turn it off
    # so that the suite leaves no jobs in a shared Redis).
    JOBS_ENQUEUE = True
    DAILY_JOBS_HOUR = int(os.environ.get("DAILY_JOBS_HOUR", "6"))

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = env_flag("MAIL_USE_TLS", True)
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Manufacturing Innovation Network <no-reply@localhost>")


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = (os.environ.get("DATABASE_URL") and database_url()) or "sqlite://"
    RATELIMIT_ENABLED = False
    JOBS_ENQUEUE = False
    WTF_CSRF_ENABLED = False
    STATIC_MANIFEST = False  # pages name the plain files, whether or not `flask digest compile` ran here
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST_KIB = 1024
    ARGON2_PARALLELISM = 1
    RECOVERY_ARGON2_TIME_COST = 1
    RECOVERY_ARGON2_MEMORY_COST_KIB = 1024


class ProductionConfig(Config):
    REQUIRE_SECRET_KEY = True  # several app servers must share one key
    # __Host-: browsers keep the cookie only if it is Secure, for path / and for this host alone.
    SESSION_COOKIE_NAME = "__Host-portal_session"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
