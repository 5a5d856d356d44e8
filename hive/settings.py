"""Settings for the whole portal, read from the environment through ``hive.env``.

With ``DEBUG`` off the defaults are the production ones: secure cookies, HSTS, HTTPS redirect,
allowed hosts limited to ``HIVE_DOMAIN`` and its subdomains, and a ``SECRET_KEY`` that must be set.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from hive.env import env_bool, env_database, env_decimal, env_int, env_list, env_str
from hive.preview_domain import preview_domain_check, preview_domain_default

# Lets admin and other generic classes be subscripted at runtime, as the type stubs do.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
# Under pytest the test settings apply even when HIVE_TESTING is not exported.
TESTING = env_bool("HIVE_TESTING", "pytest" in sys.modules)

_DEV_SECRET = "insecure-dev-only-secret-key-do-not-use-in-production"  # noqa: S105  (never used with DEBUG off)
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if (DEBUG or TESTING) else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")

# The apex domain: the public site lives on it, each customer on <slug>.<HIVE_DOMAIN>.
HIVE_DOMAIN = env_str("HIVE_DOMAIN", "hive.localhost").lower()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [HIVE_DOMAIN, f".{HIVE_DOMAIN}"])
if DEBUG or TESTING:
    ALLOWED_HOSTS += ["localhost", "127.0.0.1", "testserver"]
# Hosts that serve the public schema besides HIVE_DOMAIN itself (health checks by IP, etc.).
HIVE_PUBLIC_HOSTS = {HIVE_DOMAIN, "localhost", "127.0.0.1", "testserver"}

# Customer previews are served by the portal's ASGI server on an origin of their own,
# <schema>-<project>.<HIVE_PREVIEW_DOMAIN> (projects.delivery.preview_gateway). Never under HIVE_DOMAIN, nor
# HIVE_DOMAIN under it: preview code could then read or plant the portal's cookies. In production
# it must be set, ideally to a registrable domain of its own (as GitHub's githubusercontent.com).
HIVE_PREVIEW_DOMAIN = env_str("HIVE_PREVIEW_DOMAIN", preview_domain_default(HIVE_DOMAIN) if (DEBUG or TESTING) else "")
HIVE_PREVIEW_DOMAIN = preview_domain_check(HIVE_PREVIEW_DOMAIN, portal=HIVE_DOMAIN)
ALLOWED_HOSTS += [HIVE_PREVIEW_DOMAIN, f".{HIVE_PREVIEW_DOMAIN}"]

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    "billing",
    "agents",
    # Accounts an enterprise can trust (tenants.throttling, tenants.two_factor): login lockout
    # and TOTP/recovery-code devices, all in the public schema beside the users.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "projects",
    "success",
    "api",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
# The REST API's libraries have no models of their own (API keys live in the ``api`` tenant app).
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar"]

TENANT_MODEL = "tenants.Customer"
TENANT_DOMAIN_MODEL = "tenants.Domain"
TENANT_LIMIT_SET_CALLS = True
# New customer schemas are replayed from a recorded image of the tenant migrations (tenants.schema_image).
HIVE_SCHEMA_IMAGE = env_bool("HIVE_SCHEMA_IMAGE", True)
PUBLIC_SCHEMA_URLCONF = "hive.urls_public"
ROOT_URLCONF = "hive.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    # First, so that every answer carries the policy, the unknown-host 404 included.
    "csp.middleware.CSPMiddleware",
    "tenants.middleware.HostTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.AuditRequestMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "tenants.two_factor.TwoFactorMiddleware",
    "tenants.middleware.TenantAccessMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "hive.wsgi.application"
ASGI_APPLICATION = "hive.asgi.application"

DATABASES = {"default": env_database("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hive")}
if env_bool("HIVE_DB_POOL", not TESTING):
    # A new PostgreSQL connection costs ~2.4 ms here; the pool removes it from every request.
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": env_int("HIVE_DB_POOL_SIZE", 10)}}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Several checkouts on one machine can run their suites side by side with different test databases.
DATABASES["default"]["TEST"] = {"NAME": env_str("HIVE_TEST_DATABASE", f"test_{DATABASES['default']['NAME']}")}

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # Keys that mean the same on every host (sessions, memberships): never prefixed by schema,
    # so logging out or losing a membership on one host takes effect on all of them.
    "shared": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "hive-shared",
    },
}
if TESTING and env_bool("HIVE_TEST_LOCAL_CACHES", True):
    # Each test run (and each test: see tests/conftest.py) starts from empty caches; rolled-back
    # rows must not live on in a cache shared with other runs on the machine.
    for _alias, _cache in CACHES.items():
        _cache.update(BACKEND="django.core.cache.backends.locmem.LocMemCache", LOCATION=f"hive-{_alias}")
# Sessions are read from Redis and written through to PostgreSQL: one query less per request.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "shared"
# channels_redis waits for messages with a blocking BZPOPMIN of 5 s; redis-py >= 8 gives every read
# a 5 s socket timeout by default, so an idle consumer died every 5 s ("Timeout reading from ...").
# The read timeout must stay well above the blocking pop (a dead Redis is still noticed), and an
# idle pooled connection is pinged before reuse.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": 30,
                    "socket_connect_timeout": 5,
                    "socket_keepalive": True,
                    "health_check_interval": 25,
                }
            ]
        },
    }
}
# The portal's websockets send a keep-alive frame this often, so proxies never see an idle socket.
HIVE_WEBSOCKET_KEEPALIVE_SECONDS = float(env_str("HIVE_WEBSOCKET_KEEPALIVE_SECONDS", "25"))

AUTH_USER_MODEL = "tenants.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 (memory-hard, Django's recommended hasher) costs ~0.1 s here where PBKDF2 at Django's
# default 1M iterations costs ~0.3 s of every signup and login; PBKDF2 hashes still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Tests create many users; their hashing strength is not under test.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
# django-axes' backend first: it refuses a locked-out username or address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_REDIRECT_URL = "/"

# One session for the apex and every customer subdomain: login on hive.localhost reaches
# acme.hive.localhost (Chromium ignores Domain=.localhost, hence a real parent domain).
SESSION_COOKIE_DOMAIN = env_str("SESSION_COOKIE_DOMAIN", f".{HIVE_DOMAIN}")
CSRF_COOKIE_DOMAIN = SESSION_COOKIE_DOMAIN
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
SECURE = env_bool("HIVE_SECURE", not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS",
    [f"{scheme}://{host}" for scheme in ("http", "https") for host in (HIVE_DOMAIN, f"*.{HIVE_DOMAIN}")]
    if (DEBUG or TESTING)
    else [f"https://{HIVE_DOMAIN}", f"https://*.{HIVE_DOMAIN}"],
)

# Content-Security-Policy (django-csp): scripts only from our own static files (and Stripe.js on
# the billing page), never inline and never eval; a script that must be inline carries the
# request's nonce (``{{ request.csp_nonce }}``). Styles allow inline ``style`` attributes: the
# progress bars' widths are data, and a style cannot run code.
_PORTAL_HOSTS = [f"{HIVE_DOMAIN}:*", f"*.{HIVE_DOMAIN}:*"]  # forms redirect across them (login → portal)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, "https://js.stripe.com"],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF, "https://api.stripe.com"],
        "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, *_PORTAL_HOSTS],
        "frame-ancestors": [NONE],
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Agent Hive <no-reply@{HIVE_DOMAIN}>")

# Where customers' files live: <root>/<schema>/projects/<id>/ (uploads, legacy code, workspaces).
HIVE_STORAGE_ROOT = Path(env_str("HIVE_STORAGE_ROOT", str(BASE_DIR / "var" / "storage")))
# Limits of the sandbox that runs code nobody on the platform wrote (agents.tools.sandbox).
HIVE_SANDBOX_CPU_SECONDS = env_int("HIVE_SANDBOX_CPU_SECONDS", 600)
HIVE_SANDBOX_MEMORY_MB = env_int("HIVE_SANDBOX_MEMORY_MB", 2048)
HIVE_SANDBOX_PROCESSES = env_int("HIVE_SANDBOX_PROCESSES", 64)
# The host uid sandboxed code runs as when the worker is root (agents/tools/sandbox.py); the guard
# that is not a boundary only where bubblewrap cannot run and a developer says so.
HIVE_SANDBOX_UID = env_int("HIVE_SANDBOX_UID", 65534)
HIVE_SANDBOX_ALLOW_UNSAFE_GUARD = env_bool("HIVE_SANDBOX_ALLOW_UNSAFE_GUARD", False)
# The package index the modernization developers look dependency releases up on and fetch wheels
# from, on the host only (agents.legacy.package_index; the sandbox has no network). Empty: pins are
# not checked and each segment's note says so — the default: the platform calls no outside host unless
# the operator names one (production sets https://pypi.org/simple or its own mirror). Tests serve
# their own index and never reach PyPI.
HIVE_PACKAGE_INDEX_URL = env_str("HIVE_PACKAGE_INDEX_URL", "").strip()
if HIVE_PACKAGE_INDEX_URL and not HIVE_PACKAGE_INDEX_URL.startswith(("https://", "http://")):
    raise RuntimeError("HIVE_PACKAGE_INDEX_URL must be an http(s) URL of a PEP 503/691 simple index, or empty")
# Legacy code may also be read from git repositories under this directory on the server.
HIVE_GIT_IMPORT_ROOT = Path(env_str("HIVE_GIT_IMPORT_ROOT", str(BASE_DIR / "var" / "git-imports")))
# Uploads above Django's memory limit stream to a temporary file; the hard limits are enforced
# by the readers (requirements documents, legacy archives).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
# --- Bounded intake (projects.scoping.uploads, projects.scoping.intake_limits) ---------------------------------
# Upload caps per kind, enforced before a byte is stored: at the ASGI door by Content-Length and
# by the first upload handler. A whole requirements request (document, pasted text and form,
# projects.scoping.uploads.FORM_ALLOWANCE_BYTES) stays in memory: never a temporary file.
HIVE_REQUIREMENTS_UPLOAD_MAX_BYTES = env_int("HIVE_REQUIREMENTS_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
HIVE_LEGACY_UPLOAD_MAX_BYTES = env_int("HIVE_LEGACY_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "FILE_UPLOAD_MAX_MEMORY_SIZE", HIVE_REQUIREMENTS_UPLOAD_MAX_BYTES + 2 * 1024 * 1024
)
FILE_UPLOAD_HANDLERS = [
    "projects.scoping.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Requirements are parsed in a child process under these limits, and refused past these caps.
HIVE_INTAKE_CPU_SECONDS = env_int("HIVE_INTAKE_CPU_SECONDS", 8)
HIVE_INTAKE_WALL_SECONDS = env_int("HIVE_INTAKE_WALL_SECONDS", 10)
# The legacy assessment of an upload runs in a child interpreter with these limits
# (projects.scoping.assessment_limits): CPU seconds, wall seconds, memory, children per web process.
HIVE_ASSESSMENT_CPU_SECONDS = env_int("HIVE_ASSESSMENT_CPU_SECONDS", 120)
HIVE_ASSESSMENT_WALL_SECONDS = env_int("HIVE_ASSESSMENT_WALL_SECONDS", 180)
HIVE_ASSESSMENT_MEMORY_MB = env_int("HIVE_ASSESSMENT_MEMORY_MB", 2048)
HIVE_ASSESSMENT_CONCURRENCY = env_int("HIVE_ASSESSMENT_CONCURRENCY", 2)
HIVE_INTAKE_MEMORY_MB = env_int("HIVE_INTAKE_MEMORY_MB", 768)
HIVE_INTAKE_CONCURRENCY = env_int("HIVE_INTAKE_CONCURRENCY", 2)  # parses at once per web process
HIVE_INTAKE_MAX_TEXT_CHARS = env_int("HIVE_INTAKE_MAX_TEXT_CHARS", 1_000_000)
HIVE_INTAKE_MAX_STORIES = env_int("HIVE_INTAKE_MAX_STORIES", 500)
HIVE_INTAKE_MAX_PDF_PAGES = env_int("HIVE_INTAKE_MAX_PDF_PAGES", 200)
HIVE_INTAKE_MAX_PDF_CONTENT_BYTES = env_int("HIVE_INTAKE_MAX_PDF_CONTENT_BYTES", 20 * 1024 * 1024)
HIVE_INTAKE_MAX_DOCX_XML_BYTES = env_int("HIVE_INTAKE_MAX_DOCX_XML_BYTES", 10 * 1024 * 1024)
HIVE_INTAKE_MAX_DOCX_PARAGRAPHS = env_int("HIVE_INTAKE_MAX_DOCX_PARAGRAPHS", 20_000)
# --- end bounded intake -----------------------------------------------------------------------

# How long an invitation link stays valid.
INVITATION_MAX_AGE = env_int("INVITATION_MAX_AGE_SECONDS", 7 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)

# /healthz gives its details (migrations per schema) to staff and to this bearer token only.
HIVE_HEALTH_TOKEN = env_str("HIVE_HEALTH_TOKEN", "")

# Tests never queue work on the broker a developer's `make run` reads (Redis db 0): messages left
# there would be picked up by the next run's workers against another database.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11" if TESTING else REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Long agent work has its own queue so it cannot starve dispatching, the reaper and notifications
# (``control``, and ``celery`` for everything else). A worker started without -Q serves all three.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {name: {"exchange": name, "routing_key": name} for name in ("agents", "control", "celery")}
CELERY_TASK_ROUTES = {
    "projects.execute_task": {"queue": "agents"},
    "projects.*": {"queue": "control"},
    "agents.*": {"queue": "control"},
}
# The longest agent task is bounded by the hard time limit; the broker's visibility timeout stays
# above it, so a running task is never redelivered while it still runs (Redis default: 1 hour).
CELERY_TASK_TIME_LIMIT = env_int("HIVE_TASK_TIME_LIMIT_SECONDS", 4 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 2 * 3600}
CELERY_RESULT_EXPIRES = 3600
# Orchestration timings (projects.delivery.execution): heartbeat period, when a run counts as lost, the
# first retry backoff (doubling), when a queued task's message counts as lost, escalation age.
HIVE_AGENT_PROVIDER = env_str("HIVE_AGENT_PROVIDER", "builtin")
HIVE_TASK_HEARTBEAT_SECONDS = float(env_str("HIVE_TASK_HEARTBEAT_SECONDS", "10"))
HIVE_RUN_STALE_SECONDS = float(env_str("HIVE_RUN_STALE_SECONDS", "60"))
HIVE_TASK_RETRY_BACKOFF_SECONDS = float(env_str("HIVE_TASK_RETRY_BACKOFF_SECONDS", "30"))
HIVE_TASK_REDISPATCH_SECONDS = float(env_str("HIVE_TASK_REDISPATCH_SECONDS", "120"))
# A task blocked this long goes to the account manager (issue #14: 30 minutes, not the seed's 4 hours).
HIVE_BLOCKED_ESCALATION_SECONDS = float(env_str("HIVE_BLOCKED_ESCALATION_SECONDS", "1800"))
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "reap-stalled-runs": {"task": "projects.reap_stalled_runs", "schedule": 30.0},
    "redispatch-lost-tasks": {"task": "projects.redispatch_lost_tasks", "schedule": 60.0},
    "escalate-blocked-tasks": {"task": "projects.escalate_blocked_tasks", "schedule": 60.0},
    "sample-agent-utilization": {"task": "agents.sample_utilization", "schedule": 60.0},
    "demo-approvals": {"task": "projects.demo_approvals", "schedule": 5.0},
}
# The demo project of `make run` (projects.delivery.demo): its approvals are granted by "demo", the final
# acceptance only after this many seconds so the customer preview can be opened first.
HIVE_DEMO_AUTO_APPROVE = env_bool("HIVE_DEMO_AUTO_APPROVE", False)
HIVE_DEMO_ACCEPT_AFTER_SECONDS = env_int("HIVE_DEMO_ACCEPT_AFTER_SECONDS", 600)

# --- Stripe (billing) ------------------------------------------------------------------------
# Secrets come only from the environment. Without STRIPE_SECRET_KEY, development and tests talk to
# localstripe (the Stripe emulator `make run` and the test suite start) at STRIPE_API_BASE with a
# throwaway test key; in production billing refuses to run until the key is set.
STRIPE_EMULATED = (DEBUG or TESTING) and not env_str("STRIPE_SECRET_KEY", "")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "sk_test_localstripe" if STRIPE_EMULATED else "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe" if STRIPE_EMULATED else "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_localstripe" if STRIPE_EMULATED else "")
# Empty means api.stripe.com; localstripe listens on http://127.0.0.1:8420 unless told otherwise.
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "http://127.0.0.1:8420" if STRIPE_EMULATED else "")
# Signed webhooks older than this are refused as stale (Stripe's own default is 300 s).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
# A milestone charge whose Stripe call started this long ago without an answer is recovered.
STRIPE_CHARGE_STALE_SECONDS = env_int("STRIPE_CHARGE_STALE_SECONDS", 300)
CELERY_BEAT_SCHEDULE["recover-stale-charges"] = {"task": "billing.recover_stale_charges", "schedule": 300.0}
# The payment schedule (projects.delivery.payments): a quote is valid this many days; a failed later charge
# is retried this many days after each failure (then the delivery pauses until it is paid); the
# sweep charges sprints that started and retries that are due.
HIVE_QUOTE_VALID_DAYS = env_int("HIVE_QUOTE_VALID_DAYS", 30)
# The smallest code base (code lines) a modernization's fixed phase schedule is offered for; below it
# the account manager prepares a custom quote. Why 25,000: projects/scoping/migration_minimum.py.
HIVE_MODERNIZATION_MIN_LINES = env_int("HIVE_MODERNIZATION_MIN_LINES", 25_000)
HIVE_DUNNING_RETRY_DAYS = [int(day) for day in env_list("HIVE_DUNNING_RETRY_DAYS", ["1", "3", "7"])]
CELERY_BEAT_SCHEDULE["charge-due-payments"] = {"task": "projects.payments_sweep", "schedule": 300.0}
# Which paid milestone releases the full deliverable (git bundle): "final" (every milestone of the
# schedule paid) or "first" (the first one), per service.
HIVE_DELIVERABLE_RELEASE = {
    "mvp": env_str("HIVE_DELIVERABLE_RELEASE_MVP", "final"),
    "modernization": env_str("HIVE_DELIVERABLE_RELEASE_MODERNIZATION", "final"),
    "augmentation": env_str("HIVE_DELIVERABLE_RELEASE_AUGMENTATION", "first"),
}
# --- end Stripe --------------------------------------------------------------------------------

# --- LLM provider (agents.providers.llm) -----------------------------------------------------------
# Used when a workflow's provider (or HIVE_AGENT_PROVIDER) is "llm". HIVE_LLM_API picks the SDK:
# "anthropic" (Messages API) or "openai" (any OpenAI-compatible chat completions endpoint, e.g. a
# local model server at HIVE_LLM_BASE_URL, which may then need no key). The budget is per project
# and may be overridden per project in a task's inputs["llm"]; 0 means no limit on that dimension.
HIVE_LLM_API = env_str("HIVE_LLM_API", "anthropic")
HIVE_LLM_BASE_URL = env_str("HIVE_LLM_BASE_URL", "")  # empty: the vendor's own endpoint
HIVE_LLM_API_KEY = env_str("HIVE_LLM_API_KEY", "")
HIVE_LLM_MODEL = env_str("HIVE_LLM_MODEL", "")
HIVE_LLM_MAX_TOKENS = env_int("HIVE_LLM_MAX_TOKENS", 8192)  # per reply
HIVE_LLM_MAX_TURNS = env_int("HIVE_LLM_MAX_TURNS", 60)
HIVE_LLM_TIMEOUT_SECONDS = float(env_str("HIVE_LLM_TIMEOUT_SECONDS", "300"))
HIVE_LLM_MAX_RETRIES = env_int("HIVE_LLM_MAX_RETRIES", 2)
# Automatic re-runs of a phase's quality gates after the first run (success.gates); then a person decides.
HIVE_GATE_AUTO_RERUNS = env_int("HIVE_GATE_AUTO_RERUNS", 2)
HIVE_LLM_BUDGET_TOKENS = env_int("HIVE_LLM_BUDGET_TOKENS", 5_000_000)
HIVE_LLM_BUDGET_COST = env_decimal("HIVE_LLM_BUDGET_COST", "50")
HIVE_LLM_PRICE_INPUT_PER_1K = env_decimal("HIVE_LLM_PRICE_INPUT_PER_1K", "0.003")
HIVE_LLM_PRICE_OUTPUT_PER_1K = env_decimal("HIVE_LLM_PRICE_OUTPUT_PER_1K", "0.015")
HIVE_LLM_TEST_COMMAND = env_str("HIVE_LLM_TEST_COMMAND", "python -m pytest -q")
HIVE_LLM_TEST_TIMEOUT_SECONDS = float(env_str("HIVE_LLM_TEST_TIMEOUT_SECONDS", "600"))
# --- end LLM provider ----------------------------------------------------------------------------

# --- Customer success (success) ---------------------------------------------------------------
# Links in emails sent without a request (escalations, daily summaries) start with this origin; a
# customer's portal is the same with its slug in front of the host.
HIVE_SITE_URL = env_str(
    "HIVE_SITE_URL", f"http://{HIVE_DOMAIN}:8000" if (DEBUG or TESTING) else f"https://{HIVE_DOMAIN}"
)
# A project later than its plan by more than this is escalated to its account manager.
HIVE_TIMELINE_SLIP_ESCALATION_HOURS = float(env_str("HIVE_TIMELINE_SLIP_ESCALATION_HOURS", "48"))
# Daily summaries and weekly briefings are made at this hour (UTC); briefings on Mondays.
HIVE_REPORTS_HOUR = env_int("HIVE_REPORTS_HOUR", 6)
CELERY_BEAT_SCHEDULE.update(
    {
        "success-daily-summaries": {
            "task": "success.daily_summaries",
            "schedule": crontab(minute=0, hour=HIVE_REPORTS_HOUR),
        },
        "success-weekly-briefings": {
            "task": "success.weekly_briefings",
            "schedule": crontab(minute=15, hour=HIVE_REPORTS_HOUR, day_of_week="mon"),
        },
        "success-watch": {"task": "success.watch", "schedule": 600.0},
        # Notifications a person chose to get as a daily digest (success.notifications).
        "success-notification-digests": {
            "task": "success.notification_digests",
            "schedule": crontab(minute=30, hour=HIVE_REPORTS_HOUR),
        },
    }
)
# Daily summaries and weekly briefings made on request ("as of now"), per person.
HIVE_RATE_REPORT_NOW = env_str("HIVE_RATE_REPORT_NOW", "10/m")
# --- end customer success ------------------------------------------------------------------------

# --- Customer previews (agents.previews, projects.delivery.previews, projects.delivery.preview_gateway) ---------------
# The portal's link mints a token valid this long, exchanged once for a cookie of the preview's host
# valid HIVE_PREVIEW_SESSION_SECONDS (membership is checked again on every request).
HIVE_PREVIEW_TOKEN_SECONDS = env_int("HIVE_PREVIEW_TOKEN_SECONDS", 300)
HIVE_PREVIEW_SESSION_SECONDS = env_int("HIVE_PREVIEW_SESSION_SECONDS", 8 * 3600)
# A preview stops after this long without a request, and this long after the customer accepted
# the delivery (the sweep runs every minute); the customer can start it again from the project page.
HIVE_PREVIEW_IDLE_SECONDS = env_int("HIVE_PREVIEW_IDLE_SECONDS", 1800)
HIVE_PREVIEW_GRACE_SECONDS = env_int("HIVE_PREVIEW_GRACE_SECONDS", 24 * 3600)
# What the gateway lets through: request bodies, response bodies, and the time for an answer.
HIVE_PREVIEW_MAX_BODY_BYTES = env_int("HIVE_PREVIEW_MAX_BODY_BYTES", 10 * 1024 * 1024)
HIVE_PREVIEW_MAX_RESPONSE_BYTES = env_int("HIVE_PREVIEW_MAX_RESPONSE_BYTES", 100 * 1024 * 1024)
HIVE_PREVIEW_TIMEOUT_SECONDS = float(env_str("HIVE_PREVIEW_TIMEOUT_SECONDS", "60"))
CELERY_BEAT_SCHEDULE["previews-sweep"] = {"task": "projects.previews_sweep", "schedule": 60.0}
# --- end customer previews -----------------------------------------------------------------------
# --- Accounts: throttling, two-factor, re-authentication (tenants) --------------------------------
# Login lockout (django-axes): HIVE_LOGIN_FAILURE_LIMIT failures lock the account (from any
# address) and the address (for any account) for HIVE_LOGIN_COOLOFF_MINUTES after the last
# counted failure; tries while locked do not extend it, so nobody can lock a real user out for
# good, and a password reset unlocks the account at once.
AXES_FAILURE_LIMIT = env_int("HIVE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("HIVE_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success must not wipe the counts: axes would delete every failure from that address, so an
# attacker logging into their own account between guesses would reset the victim's count too.
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "tenants.throttling.login_username"
AXES_CLIENT_IP_CALLABLE = "tenants.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "tenants.throttling.lockout_response"
AXES_VERBOSE = False
# Rate limits (django-ratelimit, fixed windows, counted in the shared cache): "count/period" with
# period s, m, h or d. Per client address and per target e-mail address.
RATELIMIT_USE_CACHE = "shared"
HIVE_RATE_PASSWORD_RESET = env_str("HIVE_RATE_PASSWORD_RESET", "2/h")
HIVE_RATE_PASSWORD_RESET_IP = env_str("HIVE_RATE_PASSWORD_RESET_IP", "20/h")
HIVE_RATE_SIGNUP = env_str("HIVE_RATE_SIGNUP", "3/h")
HIVE_RATE_SIGNUP_IP = env_str("HIVE_RATE_SIGNUP_IP", "10/h")
HIVE_RATE_INVITATION = env_str("HIVE_RATE_INVITATION", "3/d")
HIVE_RATE_INVITATION_IP = env_str("HIVE_RATE_INVITATION_IP", "30/h")
HIVE_RATE_EMAIL_VERIFICATION = env_str("HIVE_RATE_EMAIL_VERIFICATION", "3/h")
# Signup and e-mail verification links (signed) stay valid this long.
HIVE_EMAIL_VERIFICATION_MAX_AGE = env_int("HIVE_EMAIL_VERIFICATION_MAX_AGE_SECONDS", 3 * 24 * 3600)
# Two-factor (django-otp): the issuer shown in authenticator apps; money actions and API-key
# creation need a password or TOTP confirmation within HIVE_REAUTH_SECONDS.
OTP_TOTP_ISSUER = env_str("HIVE_OTP_ISSUER", "Agent Hive")
# Staff may delete a person's lost devices in the admin, but never read their secrets.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
HIVE_REAUTH_SECONDS = env_int("HIVE_REAUTH_SECONDS", 600)
HIVE_RECOVERY_CODES = 10
# --- end accounts -------------------------------------------------------------------------------
# --- REST API (api) ------------------------------------------------------------------------------
# Each company's API at https://<slug>.<HIVE_DOMAIN>/api/v1/, authenticated only by its API keys
# (api.authentication); throttled per key and, before a key is known, per client address.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.KeyCanRead"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env_str("HIVE_API_KEY_RATE", "1200/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pages",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Agent Hive API",
    "DESCRIPTION": "A company's projects, delivery and money, on its own portal host. "
    "Authenticate with `Authorization: Api-Key <key>` (or `Bearer <key>`); keys are made by owners "
    "at /settings/api-keys/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge from validator.swagger.io: the docs page asks no other origin for anything.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProjectServiceEnum": "projects.models.Service",
        "ChargeServiceEnum": "billing.models.SERVICE_CHOICES",
        "ProjectStatusEnum": "projects.models.Project.Status",
        "PhaseStatusEnum": "projects.models.Phase.Status",
        "TaskStatusEnum": "projects.models.Task.Status",
        "RunStatusEnum": "projects.models.Run.Status",
        "ChargeStatusEnum": "billing.models.Charge.Status",
    },
}
# Refused API keys from one client address per minute before it gets 429 (api.authentication).
HIVE_API_REFUSALS_PER_MINUTE = env_int("HIVE_API_REFUSALS_PER_MINUTE", 30)
# --- end REST API ---------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
# In development and tests static files come straight from the finders; production serves the
# collected, hashed copies (``manage.py collectstatic``).
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
if not (DEBUG or TESTING):
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The secret store (tenants.secrets): Fernet keys, comma-separated; the first encrypts, every one
# decrypts (rotation: put the new key first, run ``secrets_rotate``, then drop the old one). Tests
# get a fixed key of their own; `make run` (scripts/run_stack.py) makes one and keeps it in
# .run/secret-keys; production sets it from its secret manager, the same for every process.
# Without keys the store refuses, customers read a plain message and staff get an escalation.
_TEST_SECRET_KEY = "aGl2ZS10ZXN0LW9ubHktc2VjcmV0LXN0b3JlLWtleSE="  # noqa: S105  (tests only)
HIVE_SECRET_KEYS = env_list("HIVE_SECRET_KEYS", [_TEST_SECRET_KEY] if TESTING else [])
# Customer repositories (projects.delivery.repository): file:// remotes are for tests and local installs.
HIVE_GIT_ALLOW_FILE_REMOTES = env_bool("HIVE_GIT_ALLOW_FILE_REMOTES", TESTING)
# ...and remotes on loopback, private, link-local or reserved addresses (agents.remote_addresses):
# never in production (the workers would reach the platform's own services); tests turn it on.
HIVE_GIT_ALLOW_PRIVATE_REMOTES = env_bool("HIVE_GIT_ALLOW_PRIVATE_REMOTES", False)
HIVE_GIT_REMOTE_TIMEOUT_SECONDS = env_int("HIVE_GIT_REMOTE_TIMEOUT_SECONDS", 120)
