"""Typed readers for environment variables.

Each helper fails loudly with a message naming the variable, so a typo in a deployment stops
start-up instead of silently running with a default.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off); got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


_POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


def database_from_url(name: str, url: str, *, base_dir: Path) -> dict:
    """Turn a DATABASE_URL into a Django DATABASES entry (PostgreSQL or SQLite only)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _POSTGRES_SCHEMES:
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user@host/postdesk.")
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            # Reuse connections between requests; health checks drop dead ones after a DB restart.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if scheme == "sqlite":
        # sqlite:///relative.db is relative to the project, sqlite:////abs/path.db is absolute.
        path = unquote(parts.path)[1:]
        if not path:
            raise ImproperlyConfigured(f"{name} must name a file, e.g. sqlite:///db.sqlite3.")
        file = Path(path)
        if not file.is_absolute():
            file = base_dir / file
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(file)}
    raise ImproperlyConfigured(
        f"{name} has an unsupported scheme {parts.scheme!r}; use postgres:// or sqlite:///."
    )


def cache_from_url(url: str) -> dict:
    """The default cache: Redis at ``url`` (shared by every process, degrading to misses while
    Redis is down: core.cache), or local memory when no URL is given."""
    if url:
        return {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": url}
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
