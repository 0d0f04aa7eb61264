"""chatd settings: one module, driven by the environment (see API.md §1).

Embedded mode (no ``REDIS_URL``): SQLite in WAL mode, in-memory channel layer, locmem cache,
chat runs on a thread pool inside the ``serve`` process.
Distributed mode (``REDIS_URL`` set, ``DATABASE_URL=postgres://…``): psycopg 3 pool,
channels-redis, Redis cache, Celery on Redis.
"""

from __future__ import annotations

from pathlib import Path

from config.env import data_dir, desktop_geometry, env, positive_int, redis_db, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

# --- core -------------------------------------------------------------------------------
DATA_DIR = data_dir()
SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
REDIS_URL = env.str("REDIS_URL", default="")
DISTRIBUTED = bool(REDIS_URL)
CHATD_ENCRYPTION_KEY = env.str("CHATD_ENCRYPTION_KEY", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "providers",
    "workspaces",
    "costs",
    "chats",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.SyncStackMiddleware",  # last: see its module
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'chatd.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Without WAL + IMMEDIATE + a busy timeout, concurrent writers get "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_chatd.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A shared pool: worker threads borrow a connection per short transaction and give it back.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": positive_int("CHATD_DB_POOL_SIZE", 20),
            "timeout": 30,
        },
    }
# Heartbeats get a connection of their own, outside the pool: a burst of claims can hold every
# pooled connection, and a heartbeat that waits for one past the stale limit makes a live run
# look dead (its chat is recovered and runs twice). It is open only while the process runs chats.
DATABASES["heartbeat"] = {
    **DATABASES["default"],
    "OPTIONS": {k: v for k, v in DATABASES["default"].get("OPTIONS", {}).items() if k != "pool"},
    "CONN_MAX_AGE": None,
    "TEST": {"MIRROR": "default"},
}

# --- auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- i18n / static ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True  # serve straight from the app folders: no collectstatic step
MEDIA_ROOT = DATA_DIR / "files"

# --- cache, channel layer, Celery -------------------------------------------------------
if DISTRIBUTED:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_db(REDIS_URL, 2),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "config.channel_layers.QueueingRedisChannelLayer",
            # Fast streams: room for bursts, short expiry so a dead consumer's backlog goes away.
            # redis-py's 5 s socket timeout would cut the layer's 5 s blocking reads: give it room.
            # At most 50 connections per process; a burst beyond waits up to 10 s for one.
            "CONFIG": {
                "hosts": [
                    {
                        "address": redis_db(REDIS_URL, 1),
                        "socket_timeout": 30,
                        "health_check_interval": 30,
                        "max_connections": 50,
                        "timeout": 10,
                    }
                ],
                "capacity": 2000,
                "expiry": 30,
            },
        }
    }
    CELERY_BROKER_URL = redis_db(REDIS_URL, 0)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
    CELERY_BROKER_URL = "memory://"

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_POOL = "threads"  # turns wait on models and tools: threads, not processes
CELERY_WORKER_CONCURRENCY = positive_int("CHATD_WORKER_CONCURRENCY", 200)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A chat turn can run for a long time; never let the broker redeliver it to a second worker
# while the first is alive (a dead worker's chat is recovered by the sweep instead).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 24 * 3600}
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# --- chatd ------------------------------------------------------------------------------
CHATD_WORKSPACE_ROOT = Path(env.str("CHATD_WORKSPACE_ROOT", default=str(DATA_DIR / "workspaces"))).resolve()
CHATD_HEARTBEAT_SECONDS = positive_int("CHATD_HEARTBEAT_SECONDS", 30)
CHATD_STALE_AFTER_SECONDS = positive_int("CHATD_STALE_AFTER_SECONDS", 300)
CHATD_SWEEP_SECONDS = positive_int("CHATD_SWEEP_SECONDS", 5)
CHATD_EMBEDDED_WORKERS = positive_int("CHATD_EMBEDDED_WORKERS", 32)
# Virtual desktops for computer-use sub-agents (Xvfb + x11vnc on the workspace's host).
CHATD_DESKTOP_ENABLED = env.bool("CHATD_DESKTOP_ENABLED", default=False)
CHATD_DESKTOP_GEOMETRY = desktop_geometry("CHATD_DESKTOP_GEOMETRY", "1280x800")
CELERY_BEAT_SCHEDULE = {
    "chats-sweep": {"task": "chats.sweep", "schedule": float(CHATD_SWEEP_SECONDS), "options": {"expires": 60}},
}
CHATD_PROVIDER_ENV_KEYS = {
    "openai": env.str("OPENAI_API_KEY", default=""),
    "anthropic": env.str("ANTHROPIC_API_KEY", default=""),
    "google": env.str("GOOGLE_API_KEY", default=""),
}

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "chatd API",
    "DESCRIPTION": "Chat with LLM coding agents that work in developer workspaces.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
