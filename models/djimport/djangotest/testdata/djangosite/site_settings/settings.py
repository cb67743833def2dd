"""Settings of the lecture's site, with the database from DJANGO_DB:
sqlite:/path/to/db.sqlite3 or postgres://user@host:port/name."""
import os
from urllib.parse import parse_qs, urlparse

SECRET_KEY = "test-only, not a secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Asia/Seoul"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "articles",
    "account",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Django 3.2's defaults, with bcrypt_sha256 and argon2 (Debian's
# python3-bcrypt and python3-argon2) usable for make_password.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]

_db = os.environ.get("DJANGO_DB", "sqlite:db.sqlite3")
if _db.startswith("postgres"):
    _u = urlparse(_db)
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _u.path.lstrip("/"),
        "USER": _u.username or "postgres",
        "PASSWORD": _u.password or "",
        "HOST": _u.hostname or "127.0.0.1",
        "PORT": str(_u.port or 5432),
        # A test's own schema (models/dbtest): ?search_path=…
        "OPTIONS": {"options": "-c search_path=" + parse_qs(_u.query)["search_path"][0]}
        if "search_path" in parse_qs(_u.query) else {},
    }}
else:
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _db[len("sqlite:"):] if _db.startswith("sqlite:") else _db,
    }}
