"""Settings for every environment; deploy-time values come from the environment.

`DEBUG` off (the default) turns on the production-safe values: a real SECRET_KEY is
required, cookies are secure, HSTS and SSL redirect are on. `make run` sets DEBUG=1 for
local development; `clinic.settings.test` holds the few overrides the test suite needs.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-never-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Set SECRET_KEY (50+ random characters) when DEBUG is off.")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "clinic.admin.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "pgtrigger",
    "corsheaders",
    "anymail",
    # The clinic's apps, bottom layer first (the import contract in pyproject.toml).
    "accounts",
    "audit",
    "practice",
    "patients",
    "appointments",
    "care",
    "treatments",
    "notifications",
    "diary",
    "records",
    "waitlist",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything that can answer (CommonMiddleware's redirects, WhiteNoise): a
    # preflight must get its headers whoever answers it.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "clinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _require_env(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Run through `make run` / `make test` (which start embedded "
            f"servers), `python tools/devenv.py exec -- <command>`, or set {name} yourself."
        )
    return value


def _database(url: str) -> dict:
    """The database settings of a URL, with a `?host=` server in HOST.

    A unix socket can only be named in the query string of a libpq URL
    (`postgresql://user@/clinic?host=/path/to/socket-dir`, as the embedded PostgreSQL's
    is), which django-environ puts in OPTIONS. psycopg reads it there, but `dbshell`
    passes only HOST to psql, which then connects to another server (the system's
    default socket).
    """
    config = env.db_url_config(url)
    options = config.get("OPTIONS", {})
    if not config.get("HOST") and "host" in options:
        config["HOST"] = options.pop("host")
    return config


DATABASES = {"default": _database(_require_env("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Prepared statements: psycopg prepares a statement a connection has run 5 times, so
# PostgreSQL stops re-planning the same booking and listing queries (several joins over
# a table with GiST indexes: planning cost more than running them). Needs server-side
# binding; turn it off behind a transaction-pooling PgBouncer.
if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _require_env("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

AUTH_USER_MODEL = "accounts.User"
# axes first: it refuses a locked-out account before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-au"
# The clinic's home zone: what the admin shows by default. Each Location carries its own
# zone for rotas and slots; everything is stored in UTC.
TIME_ZONE = env.str("TIME_ZONE", default="Australia/Melbourne")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="AU")
PHONENUMBER_DB_FORMAT = "E164"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON, written by orjson (kernel/renderers.py).
    "DEFAULT_RENDERER_CLASSES": ["kernel.renderers.ClinicJSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    # JSON with its depth bounded and its numbers finite (kernel/parsers.py); forms as DRF's.
    "DEFAULT_PARSER_CLASSES": [
        "kernel.parsers.ClinicJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "kernel.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["kernel.rest.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "clinic.schema.ClinicAutoSchema",
    "EXCEPTION_HANDLER": "kernel.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Per client address for sign-in and sign-up, per user for booking changes.
        "auth": env.str("THROTTLE_AUTH", default="20/minute"),
        "booking": env.str("THROTTLE_BOOKING", default="60/minute"),
        # Per address asked about (reset, verification link again), whoever asks and
        # whether or not it has an account: nobody's inbox is flooded from many addresses.
        "account_email": env.str("THROTTLE_ACCOUNT_EMAIL", default="5/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    # Each refresh gives a new refresh token and retires the old one: a stolen refresh
    # token stops working as soon as its owner (or the thief) uses it once.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
# The longest an API sign-in lasts, however often its tokens are refreshed (accounts/tokens.py).
SIGN_IN_MAX_AGE = timedelta(hours=env.int("SIGN_IN_HOURS", default=12))
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic booking and patient-record API",
    "DESCRIPTION": (
        "The HTTP contract of the clinic's booking website. Errors are JSON "
        '`{"code", "detail", "fields"?}`; times are ISO 8601 with a UTC offset.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's scripts are served by us, not fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "appointments.models.Status",
        "DisciplineEnum": "practice.models.Discipline",
        "ChannelEnum": "patients.models.Channel",
        "WaitlistOfferStatusEnum": "waitlist.models.OfferStatus",
    },
}

# Email: console in development, SMTP (from the environment) in production.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL",
    default="consolemail://" if DEBUG else "smtp://localhost:25",
)
vars().update(EMAIL_CONFIG)
# Or through an email service's API, by django-anymail: EMAIL_ESP names it (postmark,
# amazon_ses, mailgun, sendgrid, ...) and every ANYMAIL_* variable becomes that name less the
# prefix in ANYMAIL (ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_WEBHOOK_SECRET="user:password").
EMAIL_ESP = env.str("EMAIL_ESP", default="")
if EMAIL_ESP:
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_ESP}.EmailBackend"
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Clinic <bookings@clinic.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis is both broker and result store. Tasks are JSON, acknowledged after
# they ran, and bounded in time so a stuck send never blocks a worker for ever.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Keep a worker's database connection across tasks (Celery closes it after each one by
# default): a send is a few short queries, and reconnecting cost more than the work.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A Redis that does not answer must not hold up whoever is publishing (a web request).
# max_retries 0: a publish to a Redis that refuses fails at once instead of retrying for
# seconds; the next beat scan sends what could not be announced.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 0,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "dispatch-due-messages": {"task": "notifications.tasks.dispatch_due", "schedule": 60.0},
    "plan-patient-prompts": {
        "task": "notifications.tasks.plan_patient_prompts",
        "schedule": 3600.0,
    },
    # Expired holds block nothing already; this only frees their rows.
    "end-expired-holds": {"task": "appointments.tasks.end_expired_holds", "schedule": 300.0},
    # An entry lasts through its latest date; hourly, so it ends soon after midnight.
    "end-expired-waitlist-entries": {
        "task": "waitlist.tasks.end_expired_entries",
        "schedule": 3600.0,
    },
    # Freed time is offered on commit; this is the safety net, and ends expired offers.
    "offer-freed-time": {"task": "waitlist.tasks.offer_freed_time", "schedule": 60.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".devdata" / "celerybeat-schedule")
)

# Messages: `outbox` keeps them in the database (development, tests); `live` sends email
# through EMAIL_URL (or EMAIL_ESP) and SMS through SMS_BACKEND (twilio; console, file or http).
NOTIFICATIONS_DELIVERY = env.str("NOTIFICATIONS_DELIVERY", default="outbox" if DEBUG else "live")
NOTIFICATIONS_STALE_CLAIM_SECONDS = env.int("NOTIFICATIONS_STALE_CLAIM_SECONDS", default=300)
# Messages one scan claims. A full claim starts the next scan at once, so a backlog drains at
# the workers' pace; a smaller claim holds its row locks and WAL for less time.
NOTIFICATIONS_CLAIM_BATCH = env.int("NOTIFICATIONS_CLAIM_BATCH", default=200)
# Messages per send task: enough to spread a task's cost, few enough that a slow provider
# (10 s timeout per message) keeps a batch inside the task's time limit.
NOTIFICATIONS_SEND_BATCH = env.int("NOTIFICATIONS_SEND_BATCH", default=20)
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / ".devdata" / "sms.jsonl"))
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
# SMS_BACKEND=twilio: the account, and the sender (a number, an alphanumeric sender ID, or a
# messaging service). Twilio calls back on this service's public address (WEBHOOK_BASE_URL,
# e.g. https://api.clinic.example), the one it signs: the URL a proxy hands Django may differ.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_API_URL = env.str("TWILIO_API_URL", default="")  # a stand-in's address, for tests
SMS_FROM = env.str("SMS_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
WEBHOOK_BASE_URL = env.str("WEBHOOK_BASE_URL", default="")
# The words a reply may be (the whole reply, any case, punctuation ignored).
SMS_CONFIRM_WORDS = env.list("SMS_CONFIRM_WORDS", default=["Y", "YES", "C"])
SMS_CANCEL_WORDS = env.list("SMS_CANCEL_WORDS", default=["N", "NO", "CANCEL"])
SMS_STOP_WORDS = env.list("SMS_STOP_WORDS", default=["STOP", "UNSUBSCRIBE"])
SMS_START_WORDS = env.list("SMS_START_WORDS", default=["START"])
CLINIC_NAME = env.str("CLINIC_NAME", default="The Back Pain & Sciatica Clinic")
CLINIC_DOMAIN = env.str("CLINIC_DOMAIN", default="clinic.example")
CLINIC_BOOKING_URL = env.str("CLINIC_BOOKING_URL", default="https://clinic.example/book")
# Where the booking site lets a patient move or cancel their bookings (messages link to it).
CLINIC_MANAGE_BOOKING_URL = env.str(
    "CLINIC_MANAGE_BOOKING_URL", default="https://clinic.example/my-appointments"
)
# What the booking site shows for the clinic (`GET /api/v1/clinic/`): whom to call, e.g. to
# cancel inside the cancellation window.
CLINIC_PHONE = env.str("CLINIC_PHONE", default="+61 3 9000 0000")
CLINIC_EMAIL = env.str("CLINIC_EMAIL", default="bookings@clinic.example")

# The booking site, on an origin of its own: the origin CORS lets call the API, and where
# the links in account emails (verify an address, reset a password) open its pages
# (`{SITE_URL}/#/verify-email?token=...`).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8001")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Cross-origin requests (django-cors-headers): the booking site calls the API from its own
# origin. Only the API's paths, and no credentials: the site sends `Authorization: Bearer`,
# never cookies, so a page elsewhere cannot ride on a staff member's admin session.
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS",
    default=[_origin(SITE_URL)] + (["http://localhost:8001"] if DEBUG else []),
)
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
# The defaults (authorization, content-type among them) and the booking's Idempotency-Key.
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key")

# Slot holds (`POST /api/v1/holds/`): how long a picked time is kept for the visitor while
# they sign in and fill the intake, and how many live holds one patient, or one client
# address, may have at once.
HOLD_MINUTES = env.int("HOLD_MINUTES", default=7)
# The waitlist's offers of freed time: the link in the message ({token} is the offer's
# signed secret; the booking site's page, `#/offer/{token}`, shows the offer and takes or
# declines it through /api/v1/waitlist/offers/{token}/), how long a link can be old at most
# (its offer's expiry ends it sooner), and how far ahead added working time is searched.
WAITLIST_OFFER_URL = env.str(
    "WAITLIST_OFFER_URL", default=SITE_URL.rstrip("/") + "/#/offer/{token}"
)
WAITLIST_OFFER_LINK_DAYS = env.int("WAITLIST_OFFER_LINK_DAYS", default=7)
WAITLIST_SCAN_DAYS = env.int("WAITLIST_SCAN_DAYS", default=14)
HOLDS_PER_PATIENT = env.int("HOLDS_PER_PATIENT", default=2)
HOLDS_PER_IP = env.int("HOLDS_PER_IP", default=2)

# How long the account links work (accounts/links.py). Django's PASSWORD_RESET_TIMEOUT is seconds.
EMAIL_VERIFICATION_MAX_AGE = timedelta(hours=env.int("EMAIL_VERIFICATION_HOURS", default=48))
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_MINUTES", default=60) * 60

# A health check must answer quickly even when a dependency hangs.
HEALTHCHECK_TIMEOUT_SECONDS = env.float("HEALTHCHECK_TIMEOUT_SECONDS", default=2.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_client_error_traceback": {"()": "kernel.logs.ClientErrorsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's defaults give "django" a console handler of its own (with DEBUG) on top
        # of the root's, so each request line was written twice: the root writes it once.
        # (Its mail_admins handler goes too: errors reach whoever reads the logs.)
        "django": {"handlers": [], "propagate": True},
        "django.request": {"filters": ["no_client_error_traceback"]},
    },
}

# How long "break the glass" opens one patient's clinical records to a practitioner who
# has no care relationship with them, and how long the reason they give must be at least.
BREAK_GLASS_HOURS = env.int("BREAK_GLASS_HOURS", default=12)
BREAK_GLASS_MIN_REASON = env.int("BREAK_GLASS_MIN_REASON", default=20)

# The clinic outcomes report (`treatments.outcomes_report`) shows no figure of a group of
# fewer patients than this (privacy): only that the group is small.
CLINIC_OUTCOMES_MIN_COUNT = env.int("CLINIC_OUTCOMES_MIN_COUNT", default=5)

# Behind a proxy that sets X-Forwarded-For, the audit log records the address it reports.
AUDIT_TRUST_FORWARDED_FOR = env.bool("AUDIT_TRUST_FORWARDED_FOR", default=False)
# The sign-in throttle counts per client address. Without a trusted proxy DRF would take
# the address from X-Forwarded-For, which any client can make up to dodge the throttle.
REST_FRAMEWORK["NUM_PROXIES"] = 1 if AUDIT_TRUST_FORWARDED_FOR else 0

# Sign-in lockout (django-axes, accounts/services.py): after LOGIN_FAILURE_LIMIT failed
# sign-ins an account is refused for LOGIN_LOCKOUT_MINUTES, whatever the password, on the
# API and in the admin alike. Attempts are counted in the database, so the count holds
# across gunicorn workers, and `sign_in` checks one account's attempts one at a time.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Per account, from anywhere: a per-address lock would shut out a whole front desk behind
# one NAT (or everyone behind the proxy); the per-address limit is the API's throttle.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "accounts.services.lockout_username"
AXES_CLIENT_IP_CALLABLE = "audit.services.source_address"
# The lockout runs for a fixed time from the failure that caused it; knocking on a locked
# account does not extend it (so an attacker cannot keep a colleague out for ever).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Sign-ins are in the audit log (accounts/signals.py); axes keeps only the live counters.
AXES_DISABLE_ACCESS_LOG = True
SILENCED_SYSTEM_CHECKS = [
    # axes.W002 wants AxesMiddleware, which would replace the answers of our sign-in views
    # (a JSON 429 on the API, a form error in the admin) with its own page.
    "axes.W002",
    # axes.W006 wants the address among the lockout parameters: see AXES_LOCKOUT_PARAMETERS.
    "axes.W006",
]

# Two-factor sign-in (TOTP, django-otp) for the admin; see accounts/two_factor.py.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Clinic")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the device admin never shows a secret key

# An admin session lasts a working day at most, and ends when the browser is closed
# (front-desk computers are shared).
SESSION_COOKIE_AGE = int(timedelta(hours=env.int("SESSION_HOURS", default=12)).total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Sent on every response by accounts.middleware.SecurityHeadersMiddleware. The admin and
# the API docs load only their own scripts; styles may be inline (the admin's templates
# and Swagger UI use style attributes).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
