"""Django settings. Every knob is an INSIGNIA_* environment variable with a safe default (see README).

Development (the default) runs on SQLite under the data directory, with generated secrets kept there.
Production (``INSIGNIA_ENV=production``) refuses to start without its own secret key and
key-encryption key.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from insignia.accounts.sso import SAML_APP, oidc_apps, saml_apps, socialaccount_providers
from insignia.site.config import DEV_KEK_FILE, DEV_SECRET_FILE, data_dir, env, env_bool, env_int, persistent_secret

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()
ENVIRONMENT = (env("INSIGNIA_ENV", "development") or "development").lower()
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("INSIGNIA_DEBUG", False)

BASE_URL = (env("INSIGNIA_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
_base = urlsplit(BASE_URL)
if _base.scheme not in ("http", "https") or not _base.hostname:
    raise ImproperlyConfigured("INSIGNIA_BASE_URL must be an absolute http(s) URL, e.g. https://badges.example.org")

_DEFAULT_SECRET = "insignia-development-secret-change-me"  # noqa: S105 (refused below)
SECRET_KEY = env("INSIGNIA_SECRET_KEY") or (None if PRODUCTION else persistent_secret(DATA_DIR, DEV_SECRET_FILE))
KEY_ENCRYPTION_KEY = env("INSIGNIA_KEY_ENCRYPTION_KEY") or (
    None if PRODUCTION else persistent_secret(DATA_DIR, DEV_KEK_FILE)
)
if PRODUCTION:
    if not SECRET_KEY or SECRET_KEY == _DEFAULT_SECRET or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("Production needs INSIGNIA_SECRET_KEY: a random string of at least 32 characters.")
    if not KEY_ENCRYPTION_KEY or len(KEY_ENCRYPTION_KEY) < 32:
        raise ImproperlyConfigured(
            "Production needs INSIGNIA_KEY_ENCRYPTION_KEY (at least 32 random characters): it encrypts signing keys."
        )
    if _base.scheme != "https":
        raise ImproperlyConfigured("In production INSIGNIA_BASE_URL must use https.")

ALLOWED_HOSTS = [h.strip() for h in (env("INSIGNIA_ALLOWED_HOSTS", "") or "").split(",") if h.strip()] or [
    _base.hostname,
    "127.0.0.1",
    "localhost",
    "testserver",
]
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "ninja",
    "insignia.core",
    "insignia.accounts",
    "insignia.issuers",
    "insignia.badges",
    "insignia.awards",
    "insignia.bulk",
    "insignia.integrations",
    "insignia.notifications",
    "insignia.backpack",
    "insignia.verification",
]

MIDDLEWARE = [
    # First: answers GET /c/<id> and /c/<id>/credential.json for cookie-less visitors with the response the
    # whole stack made for the previous such request (see its docstring before adding a middleware above it).
    "insignia.awards.middleware.PublicDocumentMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "insignia.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "insignia.site.urls"
WSGI_APPLICATION = "insignia.site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "insignia.core.context.site",
            ],
        },
    },
]

_sqlite_default = f"sqlite:///{DATA_DIR / 'insignia.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL", _sqlite_default) or _sqlite_default,
                                              conn_max_age=env_int("INSIGNIA_DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections persist per thread here too (INSIGNIA_DB_CONN_MAX_AGE): opening one runs the PRAGMAs below
    # (~1 ms, more than a cached page costs); WAL lets each thread's reader share the file with one writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
        }
    )
    # Tests use a file (not Django's shared in-memory database), so WAL and busy_timeout behave as in production;
    # one file per test process, so two test runs on one machine never share (and corrupt) a database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-insignia-{os.getpid()}.sqlite3")}
#: PostgreSQL: server processes keep what cached public pages are keyed on and hear of changes by LISTEN/NOTIFY
#: (``insignia.core.changes``; one more connection per process). Turn off behind a transaction-mode pooler.
LISTEN_FOR_CHANGES = env_bool("INSIGNIA_LISTEN_FOR_CHANGES", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("INSIGNIA_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = _base.scheme
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key", "signup": "20/h/ip", "reset_password": "10/h/ip"}
LOGIN_REDIRECT_URL = "/dashboard/"
LOGIN_URL = "/accounts/login/"

# Single sign-on: OpenID Connect providers from INSIGNIA_OIDC_*, SAML identity providers from INSIGNIA_SAML_*
# (the `saml` extra; see README and insignia/accounts/sso.py). The apps live in settings (no database rows);
# with none configured no SSO button is shown.
INSTALLED_APPS += ["allauth.socialaccount", "allauth.socialaccount.providers.openid_connect"]
_SAML_APPS = saml_apps(os.environ, production=PRODUCTION, base_url=BASE_URL)  # refuses if the extra is missing
if _SAML_APPS:
    INSTALLED_APPS += [SAML_APP]
SOCIALACCOUNT_PROVIDERS = socialaccount_providers(oidc_apps(os.environ, production=PRODUCTION), saml=_SAML_APPS)
SOCIALACCOUNT_ADAPTER = "insignia.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # an IdP never signs in to an existing local account by email alone
SOCIALACCOUNT_LOGIN_ON_GET = False  # starting a sign-in is a POST (CSRF-protected)
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]  # insignia/static: the design system (CSS, JS, icons)
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if env("INSIGNIA_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("INSIGNIA_S3_BUCKET"),
            "endpoint_url": env("INSIGNIA_S3_ENDPOINT_URL"),
            "region_name": env("INSIGNIA_S3_REGION"),
            "access_key": env("INSIGNIA_S3_ACCESS_KEY_ID"),
            "secret_key": env("INSIGNIA_S3_SECRET_ACCESS_KEY"),
            "default_acl": None,
            "querystring_auth": True,
        },
    }
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Email: INSIGNIA_EMAIL_URL = smtp://user:pass@host:587?tls=1 | console:// | file:///path (default: file in data dir)
_email_url = urlsplit(env("INSIGNIA_EMAIL_URL", "file://") or "file://")
DEFAULT_FROM_EMAIL = env("INSIGNIA_EMAIL_FROM", "Insignia <badges@localhost>")
if _email_url.scheme in ("smtp", "smtps"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email_url.hostname or "localhost"
    EMAIL_PORT = _email_url.port or (465 if _email_url.scheme == "smtps" else 25)
    EMAIL_HOST_USER = _email_url.username or ""
    EMAIL_HOST_PASSWORD = _email_url.password or ""
    EMAIL_USE_SSL = _email_url.scheme == "smtps"
    EMAIL_USE_TLS = "tls=1" in (_email_url.query or "")
    EMAIL_TIMEOUT = 15
elif _email_url.scheme == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = _email_url.path or str(DATA_DIR / "mail")

# Background jobs: Celery over INSIGNIA_BROKER_URL when set, otherwise in-process.
BROKER_URL = env("INSIGNIA_BROKER_URL")
CELERY_BROKER_URL = BROKER_URL
CELERY_TASK_ALWAYS_EAGER = False

# Cache (verification verdicts, serialised credentials, the verifier's rate limit): each process's memory by
# default; set INSIGNIA_CACHE_URL=redis://host:6379/1 to share one Redis cache between all server processes.
CACHE_URL = env("INSIGNIA_CACHE_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                      "KEY_PREFIX": "insignia"} if CACHE_URL else
          {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "insignia",
           "OPTIONS": {"MAX_ENTRIES": env_int("INSIGNIA_CACHE_MAX_ENTRIES", 20_000)}}}

# Uploads
MAX_UPLOAD_BYTES = env_int("INSIGNIA_MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(MAX_UPLOAD_BYTES * 2, 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# Public verifier (/verify and POST /api/v1/verify): requests per client IP, "<count>/<s|m|h>"; "off" disables.
VERIFY_RATE_LIMIT = env("INSIGNIA_VERIFY_RATE_LIMIT", "30/m") or "30/m"
#: Worker processes that sign bulk-issued credentials beside the issuing process (``awards.signing``);
#: -1 (unset): one fewer than the CPUs (at most 4); 0: sign in the issuing process only.
SIGNING_PROCESSES = env_int("INSIGNIA_SIGNING_PROCESSES", -1)
#: Behind a reverse proxy the client address is the last X-Forwarded-For hop (set INSIGNIA_BEHIND_PROXY=1).
BEHIND_PROXY = env_bool("INSIGNIA_BEHIND_PROXY", False)

# Security
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _base.scheme == "https"
CSRF_COOKIE_SECURE = _base.scheme == "https"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("INSIGNIA_BEHIND_PROXY") else None
    SECURE_HSTS_SECONDS = env_int("INSIGNIA_HSTS_SECONDS", 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("INSIGNIA_LOG_LEVEL", "INFO")},
}
