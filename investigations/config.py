"""Configuration read from the environment, with defaults that need nothing but Python.

Every setting is documented in the README's configuration table.
"""
import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalize_database_url(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver that requirements.txt installs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_or_create_secret_key(instance_dir: Path) -> str:
    """Return the key kept in instance/secret_key, creating it (mode 0600) on first use."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


class Config:
    """Settings for a running app. Built per app so tests can vary the environment."""

    def __init__(self, instance_dir: Path):
        env = os.environ
        self.INSTANCE_DIR = str(instance_dir)
        self.APP_ENV = env.get("APP_ENV", "development")
        self.PRODUCTION = self.APP_ENV == "production"

        self.SECRET_KEY = env.get("SECRET_KEY") or load_or_create_secret_key(instance_dir)
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(
            env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'investigations.db'}"
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SEARCH_INDEX_DIR = env.get("SEARCH_INDEX_DIR") or str(REPO_ROOT / "search_index")
        # "separate": only the indexer process (`flask search indexer`, started by make run and make
        # serve) writes the index; "inline": each process writes it right after its own commits.
        self.SEARCH_INDEXER = env.get("SEARCH_INDEXER", "separate")
        # Set to false to stop writing the index after each commit (bulk imports, then `flask search reindex`).
        self.SEARCH_SYNC = _env_bool("SEARCH_SYNC", True)
        # "tantivy" (an index on disk, the default), "whoosh" (an index on disk, pure Python) or
        # "postgres" (full-text search in PostgreSQL); after switching, run `flask search reindex`.
        self.SEARCH_BACKEND = env.get("SEARCH_BACKEND", "tantivy")
        if self.SEARCH_BACKEND == "postgres" and not self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            raise RuntimeError("SEARCH_BACKEND=postgres needs DATABASE_URL to point at PostgreSQL.")
        self.EVIDENCE_DIR = env.get("EVIDENCE_DIR") or str(instance_dir / "evidence")
        self.MAX_UPLOAD_MB = int(env.get("MAX_UPLOAD_MB", "50"))
        # A multi-file upload may carry several files of MAX_UPLOAD_MB each;
        # the per-file limit is checked by the evidence code.
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_MB * 1024 * 1024 * 10

        self.MAX_IMAGE_MEGAPIXELS = int(env.get("MAX_IMAGE_MEGAPIXELS", "64"))
        # "background": read evidence text after the response; "inline": before it (tests, scripts).
        self.EVIDENCE_EXTRACTION = env.get("EVIDENCE_EXTRACTION", "background")

        # Signs dossiers for outside recipients. What an admin sets on Admin → Newsroom (name, time
        # zone) takes precedence over these two (investigations/newsroom.py); empty: not named yet.
        self.NEWSROOM_NAME = env.get("NEWSROOM_NAME", "").strip()
        # Every time on screen is shown in this zone ("Europe/Berlin"); empty: the server's own zone.
        self.NEWSROOM_TIMEZONE = env.get("NEWSROOM_TIMEZONE", "").strip()
        self.DOSSIER_DIR = env.get("DOSSIER_DIR") or str(instance_dir / "dossiers")
        # "background": business dossiers render in a worker thread; "inline": in the request.
        self.DOSSIER_RENDERING = env.get("DOSSIER_RENDERING", "background")

        self.RIGHT_OF_REPLY_DAYS = int(env.get("RIGHT_OF_REPLY_DAYS", "30"))
        # Right-of-reply letters (investigations/replies): their PDFs; how many days after the deadline
        # the business's private link still takes an answer; how often one address may open such links;
        # how many files an answer may carry (each checked and limited like evidence).
        self.LETTER_DIR = env.get("LETTER_DIR") or str(instance_dir / "letters")
        self.REPLY_GRACE_DAYS = int(env.get("REPLY_GRACE_DAYS", "7"))
        self.REPLY_RATE_LIMIT = env.get("REPLY_RATE_LIMIT", "30 per hour")
        self.REPLY_MAX_FILES = int(env.get("REPLY_MAX_FILES", "5"))
        self.DEFAULT_CURRENCY = env.get("DEFAULT_CURRENCY", "USD")
        self.CASES_PER_PAGE = int(env.get("CASES_PER_PAGE", "25"))
        self.ADMIN_EMAIL = env.get("ADMIN_EMAIL", "admin@example.org")

        # The dashboard flags a business as rising when it has at least RISING_MIN_COMPLAINTS new
        # complaints in the last RISING_WINDOW_DAYS days, and at least RISING_FACTOR times its
        # previous rate (its complaints in the RISING_BASELINE_DAYS before that, scaled to the window).
        self.RISING_MIN_COMPLAINTS = int(env.get("RISING_MIN_COMPLAINTS", "3"))
        self.RISING_WINDOW_DAYS = int(env.get("RISING_WINDOW_DAYS", "30"))
        self.RISING_FACTOR = float(env.get("RISING_FACTOR", "2"))
        self.RISING_BASELINE_DAYS = int(env.get("RISING_BASELINE_DAYS", "180"))

        # Behind a reverse proxy, how many X-Forwarded-For hops to trust (for audit IPs and rate limits).
        self.PROXY_FIX_X_FOR = int(env.get("PROXY_FIX_X_FOR", "0"))

        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
        self.LOGIN_RATE_LIMIT = env.get("LOGIN_RATE_LIMIT", "10 per minute")

        # The public complaint form at /report (investigations/intake): off unless switched on.
        self.PUBLIC_INTAKE = _env_bool("PUBLIC_INTAKE", False)
        self.INTAKE_MAX_FILES = int(env.get("INTAKE_MAX_FILES", "5"))
        self.INTAKE_MAX_TOTAL_MB = int(env.get("INTAKE_MAX_TOTAL_MB", "20"))
        # Successful submissions per client address; a form sent sooner than INTAKE_MIN_SECONDS after
        # it was shown is refused; at most INTAKE_DAILY_CAP submissions from everyone in 24 hours.
        self.INTAKE_RATE_LIMIT = env.get("INTAKE_RATE_LIMIT", "1 per minute;10 per day")
        self.INTAKE_MIN_SECONDS = int(env.get("INTAKE_MIN_SECONDS", "5"))
        self.INTAKE_DAILY_CAP = int(env.get("INTAKE_DAILY_CAP", "200"))
        # Receipt-code look-ups and additions on /report/status, per client address.
        self.INTAKE_STATUS_RATE_LIMIT = env.get("INTAKE_STATUS_RATE_LIMIT", "10 per minute;50 per day")
        # Shown on the form; empty: a plain default naming the newsroom (templates/intake/_privacy.html).
        self.INTAKE_PRIVACY_NOTICE = env.get("INTAKE_PRIVACY_NOTICE", "").strip()
        # Account lockout: after LOGIN_LOCKOUT_ATTEMPTS failed passwords or two-factor codes within
        # LOGIN_LOCKOUT_MINUTES, signing in with that e-mail address is refused for LOGIN_LOCKOUT_MINUTES
        # (the same for addresses without an account). Comes on top of the per-IP LOGIN_RATE_LIMIT.
        self.LOGIN_LOCKOUT_ATTEMPTS = int(env.get("LOGIN_LOCKOUT_ATTEMPTS", "5"))
        self.LOGIN_LOCKOUT_MINUTES = int(env.get("LOGIN_LOCKOUT_MINUTES", "15"))
        # When true, an admin without two-factor sign-in must set it up before anything else.
        self.REQUIRE_TOTP_FOR_ADMINS = _env_bool("REQUIRE_TOTP_FOR_ADMINS", False)

        # Sessions (auth): a sign-in ends after SESSION_IDLE_MINUTES without a request, and in any case
        # SESSION_LIFETIME_HOURS after it began ("remember me" included); sign-out ends it on the server.
        self.SESSION_IDLE_MINUTES = int(env.get("SESSION_IDLE_MINUTES", str(8 * 60)))
        self.SESSION_LIFETIME_HOURS = int(env.get("SESSION_LIFETIME_HOURS", str(14 * 24)))
        # API tokens expire this many days after they are created.
        self.API_TOKEN_DAYS = int(env.get("API_TOKEN_DAYS", "90"))

        # The audit chain is an HMAC keyed by a secret kept outside the database: AUDIT_KEY, or
        # the file AUDIT_KEY_FILE (created, mode 0600, under instance/ on first use).
        self.AUDIT_KEY = env.get("AUDIT_KEY")
        self.AUDIT_KEY_FILE = env.get("AUDIT_KEY_FILE") or str(instance_dir / "audit_key")

        # Reading text out of evidence runs in a child process with these limits; an Office file
        # is read up to EXTRACTION_MAX_ELEMENTS XML elements.
        self.EXTRACTION_MEMORY_MB = int(env.get("EXTRACTION_MEMORY_MB", "512"))
        self.EXTRACTION_SECONDS = int(env.get("EXTRACTION_SECONDS", "120"))
        self.EXTRACTION_MAX_ELEMENTS = int(env.get("EXTRACTION_MAX_ELEMENTS", "500000"))

        # Background jobs (investigations/jobs): a Huey queue in REDIS_URL when set, else in the SQLite
        # file JOBS_SQLITE_PATH; `flask jobs consumer` (started by make run / make serve) runs them.
        # JOBS_IMMEDIATE runs each job at once in the process that queues it (default: when TESTING).
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.JOBS_SQLITE_PATH = env.get("JOBS_SQLITE_PATH") or str(instance_dir / "jobs-queue.sqlite3")
        self.JOBS_IMMEDIATE = _env_bool("JOBS_IMMEDIATE") if "JOBS_IMMEDIATE" in env else None
        self.JOBS_WORKERS = int(env.get("JOBS_WORKERS", "2"))
        # A failed job runs again after JOBS_RETRY_SECONDS, doubling each time, JOBS_MAX_ATTEMPTS in all.
        self.JOBS_MAX_ATTEMPTS = int(env.get("JOBS_MAX_ATTEMPTS", "5"))
        self.JOBS_RETRY_SECONDS = int(env.get("JOBS_RETRY_SECONDS", "60"))
        # A job still queued or running this long after it should have run is queued again.
        self.JOBS_STALE_MINUTES = int(env.get("JOBS_STALE_MINUTES", "30"))
        # E-mail alerts: SMTP when MAIL_SERVER is set, else .eml files in MAIL_FOLDER (development).
        self.MAIL_SERVER = env.get("MAIL_SERVER") or None
        self.MAIL_PORT = int(env.get("MAIL_PORT", "587"))
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)  # STARTTLS
        self.MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)  # TLS from the start (port 465)
        self.MAIL_SENDER = env.get("MAIL_SENDER", "Investigations <investigations@localhost>")
        self.MAIL_FOLDER = env.get("MAIL_FOLDER") or str(instance_dir / "mail")
        # The app's address, for links in e-mails.
        self.APP_URL = env.get("APP_URL", "http://127.0.0.1:5000").rstrip("/")

        self.WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.PRODUCTION
        self.REMEMBER_COOKIE_SECURE = self.PRODUCTION
        self.PREFERRED_URL_SCHEME = "https" if self.PRODUCTION else "http"

    def as_dict(self) -> dict:
        return {key: value for key, value in vars(self).items() if key.isupper()}
