"""One settings module, read from the environment (see README "Configuration").

Defaults make a one-machine demo work (SQLite, local Redis and Orthanc); production
sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DATABASE_URL and the Orthanc credentials.
"""

import tempfile
from pathlib import Path

import dj_database_url
from celery.schedules import schedule

from config.env import env_bool, env_float, env_int, env_list, env_str
from config.serve import trusted_proxies

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
# A development key only exists in DEBUG; production must set its own.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-never-in-production" if DEBUG else None)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

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
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "accounts",
    "worklist",
    "reporting",
    "inference",
    "triage",
    "dashboard",
    "clinician",
    "priors",
    "frontend",
]

MIDDLEWARE = [
    "config.middleware.body_size_limit",
    "django.middleware.security.SecurityMiddleware",
    "frontend.ohif.StaticFilesMiddleware",  # WhiteNoise, plus OHIF's dist at the site root
    "config.middleware.security_headers",  # after static files: they stay cacheable
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.login_address_limit",  # failures per address across usernames
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

# Request bodies: every one is capped (config.middleware.body_size_limit answers 413 above it;
# Django's own check covers only request.body/POST, not DRF's parsers reading the stream).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_MAX_BODY_BYTES", 1024 * 1024)
HL7_MAX_BYTES = env_int("HL7_MAX_BYTES", 64 * 1024)  # an imaging order is a few hundred bytes

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo runs web, worker and beat against one file: write-ahead logging lets readers go on
    # while one process writes, IMMEDIATE transactions take the write lock up front (no upgrade
    # deadlock), and a busy database is waited for instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
elif env_int("DATABASE_POOL_MAX", 0) > 0:
    # Under ASGI each request's sync code runs in a thread of its own (Django's ThreadSensitiveContext),
    # so CONN_MAX_AGE cannot keep a connection: without a pool every request forked a PostgreSQL
    # backend (~12 ms median, p99 ~180 ms on the loaded bench machine). config.serve turns the pool on
    # for the web process; at most DATABASE_POOL_MAX connections per process, requests beyond wait.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, env_int("DATABASE_POOL_MAX", 0)), "max_size": env_int("DATABASE_POOL_MAX", 0),
        "timeout": 30,
    }

AUTH_USER_MODEL = "accounts.User"
if env_bool("DJANGO_FAST_PASSWORD_HASHER", False):
    # Test runs only: hundreds of users are created; PBKDF2's deliberate slowness buys nothing there.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is locked out for LOGIN_LOCKOUT_HOURS, on the login page and on the API
# token endpoint alike (both go through authenticate()). A success resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env_bool("LOGIN_THROTTLING", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("LOGIN_LOCKOUT_HOURS", 0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Across usernames (password spraying from one address): config.middleware.login_address_limit.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
# The client address is REMOTE_ADDR, always. The ASGI server (config.serve) puts the real client
# there: it honours X-Forwarded-For only from the proxies DJANGO_BEHIND_PROXY names, so a guesser
# cannot pick a new address for every attempt and the audit log records the real one.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
BEHIND_PROXY = trusted_proxies()
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30)  # accounts.tokens: hashed, expiring, revoked on password change
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Front-end libraries come from npm (package-lock.json) and are served as static files: no CDN.
STATICFILES_DIRS = [("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist")]
# The OHIF viewer's prebuilt dist (npm @ohif/app), served at the site root (frontend.ohif), not collected.
OHIF_DIST = BASE_DIR / "node_modules" / "@ohif" / "app" / "dist"
WHITENOISE_USE_FINDERS = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Security (production values unless DEBUG; `manage.py check --deploy` stays clean) ---
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_SECONDS", 12 * 3600)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", not DEBUG)
# X-Forwarded-Proto, like X-Forwarded-For, is applied by the ASGI server from trusted proxies only.
SECURE_PROXY_SSL_HEADER = None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.tokens.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 200,
    # Domain errors (classes with `http_status`) answered in one place, in the reader's words.
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Radiology AI triage worklist API",
    "DESCRIPTION": "Worklist, studies, claims and AI results. Synthetic data only; not for clinical use.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its browser are for signed-in users, like every other view (the URL walk
    # in tests/security found them open to anyone).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the installed sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StudyStatusEnum": "worklist.models.StudyStatus",
        "AnalysisStatusEnum": "inference.models.AnalysisStatus",
    },
}

# --- Redis: Celery broker and the Channels layer ---
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s channels_redis blocks
        # for on BZPOPMIN: an idle consumer then dies with "Timeout reading". Read longer than it blocks.
        "CONFIG": {
            "hosts": [{"address": env_str("CHANNELS_REDIS_URL", REDIS_URL), "socket_timeout": 30}],
            "capacity": 1000,
            "expiry": 30,
        },
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"inference.tasks.analyse_study": {"queue": "inference"},
                      "inference.tasks.prefetch_series": {"queue": "prefetch"}}
# A task is acknowledged only when it has finished, and re-queued if its worker dies:
# a study reaching Orthanc must never be dropped by a killed worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A killed worker's unacknowledged task goes back to the queue once it is older than the
# visibility timeout; kombu 5.7 looks for such tasks only every interval × throttle seconds
# (10 × 10 by default). Look every 10 s: one cheap Redis query, and no 100 s extra delay.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Orthanc's StableAge, and how long past it a study announced without a StableStudy change
# (Orthanc restarted while it arrived) waits before the follower checks it directly.
ORTHANC_STABLE_AGE = env_int("ORTHANC_STABLE_AGE", 3)
INGEST_PENDING_GRACE_SECONDS = env_int("INGEST_PENDING_GRACE_SECONDS", 10)
CELERY_BEAT_SCHEDULE = {
    "follow-orthanc-changes": {
        "task": "worklist.tasks.follow_orthanc_changes",
        "schedule": schedule(env_float("INGEST_POLL_SECONDS", 1.0)),
        "options": {"expires": 10},
    },
    "escalate-overdue-studies": {
        "task": "worklist.tasks.escalate_overdue_studies",
        "schedule": schedule(env_float("ESCALATION_SECONDS", 60.0)),
        "options": {"expires": 60},
    },
    "archive-pending-reports": {
        "task": "reporting.tasks.archive_pending_reports",
        "schedule": schedule(env_float("ESCALATION_SECONDS", 60.0)),
        "options": {"expires": 60},
    },
    "escalate-critical-results": {
        "task": "clinician.tasks.escalate_unacknowledged_critical_results",
        "schedule": schedule(env_float("CRITICAL_ESCALATION_CHECK_SECONDS", 60.0)),
        "options": {"expires": 60},
    },
    "sweep-stalled-analyses": {
        "task": "inference.tasks.sweep_stalled_analyses",
        "schedule": schedule(env_float("SWEEP_SECONDS", 60.0)),
        "options": {"expires": 60},
    },
}

# --- Orthanc: the archive ---
ORTHANC_URL = env_str("ORTHANC_URL", "http://127.0.0.1:8042")
ORTHANC_USERNAME = env_str("ORTHANC_USERNAME", "triage")
ORTHANC_PASSWORD = env_str("ORTHANC_PASSWORD", "triage-demo-password" if DEBUG else None)
ORTHANC_DICOM_HOST = env_str("ORTHANC_DICOM_HOST", "127.0.0.1")
ORTHANC_DICOM_PORT = env_int("ORTHANC_DICOM_PORT", 4242)
ORTHANC_DICOM_AET = env_str("ORTHANC_DICOM_AET", "ORTHANC")
ORTHANC_TIMEOUT_SECONDS = env_float("ORTHANC_TIMEOUT_SECONDS", 30.0)
# The DICOMweb proxy (archive.dicomweb) answers at Orthanc's DicomWeb "Root" (orthanc/orthanc.json);
# who may read which study over it is decided by the policy named here.
DICOMWEB_ROOT = "/dicom-web/"
DICOMWEB_ACCESS = "clinician.dicomweb_access.StudyAccess"

# --- Analysis pipeline ---
# An analysis still "analysing" or "queued" after this long is re-queued by the sweeper.
ANALYSIS_STALL_SECONDS = env_int("ANALYSIS_STALL_SECONDS", 900)
ANALYSIS_MAX_ATTEMPTS = env_int("ANALYSIS_MAX_ATTEMPTS", 3)
# CAD model classes loaded by every worker ("package.module:Class"); none yet is a real answer.
CAD_MODELS = env_list(
    "CAD_MODELS",
    "inference.cad.lung_nodule.model:LungNoduleModel,"
    "inference.cad.mammography.model:MammographyModel,"
    "inference.cad.prostate.model:ProstateModel",
)
# A series larger than this is refused before its pixels are fetched ("too large to analyse"):
# a worker holds one volume in memory, several times over while a model resamples it. The
# default takes an 800-slice 512 x 512 series (a 0.5 mm whole-chest CT), 0.4 GB as int16.
MAX_VOLUME_VOXELS = env_int("MAX_VOLUME_VOXELS", 800 * 512 * 512)
# Series a volume model may read are decoded by an inference worker while they arrive
# (archive.prefetch), onto that worker's own disk; what is left there is removed after this long.
PREFETCH_DIR = env_str("PREFETCH_DIR", str(Path(tempfile.gettempdir()) / "triage-prefetch"))
PREFETCH_KEEP_SECONDS = env_int("PREFETCH_KEEP_SECONDS", 1800)
# Externally trained models: paths to manifest files (comma separated).
EXTERNAL_MODEL_MANIFESTS = env_list("EXTERNAL_MODEL_MANIFESTS", "")
# Referring clinicians: a critical result unacknowledged this long escalates to the department;
# AI results stay hidden from clinicians until a radiologist signs, unless this is on.
CLINICIAN_CRITICAL_ESCALATION_MINUTES = env_int("CLINICIAN_CRITICAL_ESCALATION_MINUTES", 60)
CLINICIAN_SHOW_AI_BEFORE_SIGNING = env_bool("CLINICIAN_SHOW_AI_BEFORE_SIGNING", False)
# Claims lapse after this much inactivity (DICOM UPS-style stale claim).
CLAIM_TIMEOUT_SECONDS = env_int("CLAIM_TIMEOUT_SECONDS", 1800)

def _access_log_without_query(record) -> bool:
    """Drop the query string from uvicorn's access log line.

    Clinicians look patients up by GET (`/clinician/?q=<patient ID>`, FHIR `?patient=`), so the
    query string holds patient identifiers; tests/security found them in the web server's log.
    """
    args = record.args
    if isinstance(args, tuple) and len(args) >= 3 and "?" in str(args[2]):
        record.args = (*args[:2], str(args[2]).split("?", 1)[0] + "?[query not logged]", *args[3:])
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"access_without_query": {"()": lambda: _access_log_without_query}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Configured here, after uvicorn's own logging set-up, so this one is in force.
        # uvicorn's --no-access-log empties this logger before Django's set-up fills it again:
        # config.serve passes the choice on as WEB_ACCESS_LOG=0 (the Procfile and bench_load ask for none).
        "uvicorn.access": {"handlers": ["console"], "filters": ["access_without_query"], "propagate": False,
                           **({} if env_bool("WEB_ACCESS_LOG", True) else {"level": "WARNING"})},
    },
}
