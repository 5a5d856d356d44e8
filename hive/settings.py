"""Settings for the whole portal, read from the environment through ``hive.env``.

With ``DEBUG`` off the defaults are the production ones: secure cookies, HSTS, HTTPS redirect,
allowed hosts limited to ``HIVE_DOMAIN`` and its subdomains, and a ``SECRET_KEY`` that must be set.
"""

from __future__ import annotations

import sys
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab

from hive.env import env_bool, env_database, env_decimal, env_int, env_list, env_str

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
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "projects",
    "success",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Customer"
TENANT_DOMAIN_MODEL = "tenants.Domain"
TENANT_LIMIT_SET_CALLS = True
# New customer schemas are replayed from a recorded image of the tenant migrations (tenants.schema_image).
HIVE_SCHEMA_IMAGE = env_bool("HIVE_SCHEMA_IMAGE", True)
PUBLIC_SCHEMA_URLCONF = "hive.urls_public"
ROOT_URLCONF = "hive.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "tenants.middleware.HostTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
# Legacy code may also be read from git repositories under this directory on the server.
HIVE_GIT_IMPORT_ROOT = Path(env_str("HIVE_GIT_IMPORT_ROOT", str(BASE_DIR / "var" / "git-imports")))
# Uploads above Django's memory limit stream to a temporary file; the hard limits are enforced
# by the readers (requirements documents, legacy archives).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# How long an invitation link stays valid.
INVITATION_MAX_AGE = env_int("INVITATION_MAX_AGE_SECONDS", 7 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)

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
# Orchestration timings (projects.execution): heartbeat period, when a run counts as lost, the
# first retry backoff (doubling), when a queued task's message counts as lost, escalation age.
HIVE_AGENT_PROVIDER = env_str("HIVE_AGENT_PROVIDER", "builtin")
HIVE_TASK_HEARTBEAT_SECONDS = float(env_str("HIVE_TASK_HEARTBEAT_SECONDS", "10"))
HIVE_RUN_STALE_SECONDS = float(env_str("HIVE_RUN_STALE_SECONDS", "60"))
HIVE_TASK_RETRY_BACKOFF_SECONDS = float(env_str("HIVE_TASK_RETRY_BACKOFF_SECONDS", "30"))
HIVE_TASK_REDISPATCH_SECONDS = float(env_str("HIVE_TASK_REDISPATCH_SECONDS", "120"))
HIVE_BLOCKED_ESCALATION_SECONDS = float(env_str("HIVE_BLOCKED_ESCALATION_SECONDS", "14400"))
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "reap-stalled-runs": {"task": "projects.reap_stalled_runs", "schedule": 30.0},
    "redispatch-lost-tasks": {"task": "projects.redispatch_lost_tasks", "schedule": 60.0},
    "escalate-blocked-tasks": {"task": "projects.escalate_blocked_tasks", "schedule": 300.0},
    "sample-agent-utilization": {"task": "agents.sample_utilization", "schedule": 60.0},
    "demo-approvals": {"task": "projects.demo_approvals", "schedule": 5.0},
}
# The demo project of `make run` (projects.demo): its approvals are granted by "demo", the final
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
    }
)
# --- end customer success ------------------------------------------------------------------------

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
