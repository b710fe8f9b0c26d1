"""Settings, all from environment variables with safe defaults.

DATABASE_URL    database to use; default SQLite at KEEPSCORE_HOME/keepscore.sqlite3
KEEPSCORE_HOME  data folder (default: the per-user data folder, ~/.local/share/keepscore)
SECRET_KEY      default: generated on first run and kept in KEEPSCORE_HOME/secret_key
DEBUG           "1"/"true" to turn on; off by default
ALLOWED_HOSTS   comma-separated; default "localhost,127.0.0.1,[::1]"
CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. "https://crm.example.com"
HTTPS           "1" when served over HTTPS (behind a TLS proxy): secure cookies, HSTS, and
                trust of the proxy's X-Forwarded-Proto header
HSTS_SECONDS    with HTTPS: how long browsers keep to HTTPS (default 31536000, one year; 0 off)
HSTS_INCLUDE_SUBDOMAINS  with HTTPS: HSTS covers the host's subdomains too (default on)
HSTS_PRELOAD    with HTTPS: ask to be put on the browsers' preload list (default off)
KEEPSCORE_URL   the app's address as people reach it, for links in mails
                (default http://127.0.0.1:8000)
EMAIL_URL       where mail goes: smtp://user:pass@host:587/?tls=1, smtps://…, file:///folder,
                console:// (keepscore.config.email); or EMAIL_HOST, EMAIL_PORT,
                EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL; default:
                files under KEEPSCORE_HOME/mail/
DEFAULT_FROM_EMAIL  the sender of keepscore's mail (default keepscore@ the app's host name)
INVITATION_DAYS how long an invitation's link works (default 7)
KEEPSCORE_CURRENCY  the currency of a new organization, ISO 4217 (default EUR)
KEEPSCORE_LOCALE    how a new organization's money is written (default en_IE: €1,234.50)

Production: HTTPS=1, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, and SECRET_KEY unset (generated) or of
at least 50 random characters; `python -m django check --deploy --settings
keepscore.config.settings` then reports no issue (tests/config/test_deploy.py).
"""

from __future__ import annotations

import os
from datetime import timedelta

import dj_database_url
from csp.constants import NONE, SELF

from keepscore.config import email
from keepscore.config.paths import keepscore_home, secret_key


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


KEEPSCORE_HOME = keepscore_home()
SECRET_KEY = secret_key(KEEPSCORE_HOME)
DEBUG = _flag("DEBUG")
ALLOWED_HOSTS = _list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",  # django-csp: its system checks (settings of the old format)
    "keepscore",  # the package's own templates/ and static/ (base.html, keepscore.css)
    "keepscore.common",
    "keepscore.accounts",
    "keepscore.leads",
    "keepscore.activities",
    "keepscore.followups",
    "keepscore.plan",
    "keepscore.history",
    "keepscore.audit",
    "axes",  # sign-in throttling (keepscore.accounts.lockout)
    # django-ninja's bundled Swagger UI files, so /api/v1/docs works offline (not "ninja":
    # that would import ninja and pydantic each time Django starts, see the module)
    "keepscore.api.ninja_files.NinjaFilesConfig",
    "keepscore.api",
    "keepscore.imports",
    "keepscore.webforms",
    "keepscore.privacy",  # a person's data exported or erased
    "keepscore.funnel",
    "keepscore.scorecard",
    "keepscore.economics",
    "keepscore.focus",
    "django_q",  # the background worker (django-q2; its queue is a table of this database)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # before WhiteNoise, so the static files carry the two headers too (every response does)
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "keepscore.audit.middleware.AuditActorMiddleware",
    "keepscore.common.money.MoneyMiddleware",  # the organization's currency, per request
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "keepscore.config.urls"
WSGI_APPLICATION = "keepscore.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "keepscore.accounts.context_processors.organizations",
            ],
            # {{ amount|money }} in every template (keepscore.common.money)
            "builtins": ["keepscore.common.templatetags.money"],
        },
    },
]

_SQLITE_PATH = KEEPSCORE_HOME / "keepscore.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{_SQLITE_PATH}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's, with writers taken in the order they asked (keepscore.common.sqlite.base)
    DATABASES["default"]["ENGINE"] = "keepscore.common.sqlite"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
        # BEGIN so concurrent writers wait (busy timeout) instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["connect_timeout"] = 5
    # no JIT compilation (before the URL's own ``options``, which win): keepscore's reads
    # are index scans of tens of milliseconds, each made 10-15 ms slower by compiling it
    # (the focus at 1M leads: 0.47 -> 0.42 s without it)
    _options["options"] = f"-c jit=off {_options.get('options', '')}".strip()

# A database cache: shared by every gunicorn worker, so rate limits hold across processes.
# The table is made by `keepscore migrate` (createcachetable) and by the test database setup.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "keepscore_cache",
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # refuses a locked-out account or address first (keepscore.accounts.lockout)
    "keepscore.accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# 10 failures for one account or from one address within 15 minutes: refused for 15 minutes
# (keepscore.accounts.lockout; owners unlock a member on the members page)
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "keepscore.accounts.lockout.username_of"
AXES_LOCKOUT_CALLABLE = "keepscore.accounts.lockout.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # the audit log records sign-ins
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER: tuple[str, ...] = ("REMOTE_ADDR",)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = KEEPSCORE_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the installed apps' static folders when collectstatic has not run
# (tests, a fresh checkout); `keepscore serve` collects them first.
WHITENOISE_USE_FINDERS = True

# messages (e.g. a generated password shown once) stay on the server, not in a cookie
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): only the app's own files run, load and submit, and no
# other site may frame a page. No inline <script>, no inline style (no style attribute, no
# <style> element; htmx's injected indicator style is off, see base.html), no eval: a script
# slipped into a lead's name would not run even if it escaped the templates. Relaxed for two
# views only, in their own code: the public web form and its thank-you page may be framed by
# any website (keepscore.webforms.views), and the API's Swagger UI (keepscore.api.docs).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): the browser features keepscore never uses
# are off for its pages and anything they frame. Only features Chromium knows: an unknown
# name is a console error on every page (Chromium 156 no longer knows ambient-light-sensor,
# bluetooth or interest-cohort; tests/browser/test_content_security_policy.py notices).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

if _flag("HTTPS"):
    # behind the TLS proxy the client's address is the proxy's last hop in X-Forwarded-For
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = 1
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    # keepscore usually lives on its own host name (crm.example.com): its subdomains are its
    # own, so HSTS covers them by default
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading is a promise for the whole registered domain (example.com and every
    # subdomain, hard to take back), which only the domain's owner can make: off unless
    # asked for. When off, Django's reminder that it is off (security.W021) is silenced,
    # deliberately; HSTS_PRELOAD=1 sends the preload directive.
    SECURE_HSTS_PRELOAD = _flag("HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Mail (keepscore.mail): where it goes, from the environment (keepscore.config.email); a
# setting that cannot be read stops the start with one line naming it
KEEPSCORE_URL = email.app_url(os.environ.get("KEEPSCORE_URL", "http://127.0.0.1:8000"))
EMAIL_FILE_PATH = str(KEEPSCORE_HOME / "mail")
globals().update(email.from_environment(os.environ, home=KEEPSCORE_HOME))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or email.default_sender(
    KEEPSCORE_URL
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# an invitation's link works this long after it was sent (keepscore.accounts.invitations)
try:
    INVITATION_MAX_AGE = timedelta(days=int(os.environ.get("INVITATION_DAYS", "7")))
except ValueError:
    raise ValueError("INVITATION_DAYS: not a whole number of days") from None
# the morning digest goes at or after this hour, local time (keepscore.followups.digest)
try:
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "7"))
except ValueError:
    raise ValueError("DIGEST_HOUR: not a whole hour (0-23)") from None
if not 0 <= DIGEST_HOUR <= 23:
    raise ValueError("DIGEST_HOUR: not a whole hour (0-23)")
# a password reset link works this long (Django's; it also stops working once used)
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# funnel figures: below this many in a rate's cohort (n) the UI says "not enough data"
KEEPSCORE_MIN_N = int(os.environ.get("KEEPSCORE_MIN_N", "20"))

# money: an organization's currency (ISO 4217) and number format, until an owner sets its own
# (Settings → Products & margin); new organizations start with these
KEEPSCORE_CURRENCY = os.environ.get("KEEPSCORE_CURRENCY", "EUR").strip().upper() or "EUR"
KEEPSCORE_LOCALE = os.environ.get("KEEPSCORE_LOCALE", "en_IE").strip() or "en_IE"
# --- the background worker (django-q2, ``keepscore worker``; ``keepscore serve`` starts it) ---
# Its queue is a table of the app's database (the ORM broker): no other server, on SQLite
# as on PostgreSQL. One worker process runs one task at a time (an import is one write
# transaction: two at once would only wait on each other). The timeout is longer than the
# import of a million rows; ``retry`` (when a task taken but never finished is handed out
# again) is longer than the timeout, so a slow import is never started a second time, and
# ``max_attempts`` 1 never runs a failed task again (an import cut short is marked failed and
# the person runs it again). WORKER_SYNC=1 runs tasks in the process that asks (the tests).
WORKER_TIMEOUT = int(os.environ.get("WORKER_TIMEOUT", str(60 * 60)))
Q_CLUSTER = {
    "name": "keepscore",
    "orm": "default",
    "workers": 1,
    "recycle": 50,
    "timeout": WORKER_TIMEOUT,
    "retry": WORKER_TIMEOUT + 5 * 60,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": 200,
    "poll": 0.5,
    "catch_up": False,
    "label": "Background worker",
    "sync": _flag("WORKER_SYNC"),
}
if os.environ.get("IMPORTS_INLINE_BELOW"):
    # web imports of files this big (bytes) and more run in the worker (default 2 MB)
    IMPORTS_INLINE_BELOW = int(os.environ["IMPORTS_INLINE_BELOW"])
#: seconds a web import may run before it stops itself (nothing kept); below WORKER_TIMEOUT
IMPORTS_MAX_SECONDS = int(os.environ.get("IMPORTS_MAX_SECONDS", str(30 * 60)))
#: seconds a queued task may wait before the page says that no worker seems to run
WORKER_WAIT_HINT = int(os.environ.get("WORKER_WAIT_HINT", "10"))
