import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_list

BASE = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("YES", True), ("on", True), ("false", False), ("0", False), ("no", False)],
)
def test_env_bool_accepts_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("DEBUG", raw)
    assert env_bool("DEBUG") is expected


def test_env_bool_rejects_other_values_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG must be a boolean.*'maybe'"):
        env_bool("DEBUG")


def test_env_bool_default_when_unset(monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)
    assert env_bool("DEBUG", default=False) is False


def test_env_int_rejects_text_and_values_below_minimum(monkeypatch):
    monkeypatch.setenv("AXES_FAILURE_LIMIT", "five")
    with pytest.raises(ImproperlyConfigured, match="AXES_FAILURE_LIMIT must be a whole number"):
        env_int("AXES_FAILURE_LIMIT", 5)
    monkeypatch.setenv("AXES_FAILURE_LIMIT", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("AXES_FAILURE_LIMIT", 5, minimum=1)


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " postdesk.example.vn, ,10.0.0.5 ")
    assert env_list("ALLOWED_HOSTS") == ["postdesk.example.vn", "10.0.0.5"]


def test_postgres_url_is_parsed():
    db = database_from_url(
        "DATABASE_URL", "postgres://app:p%40ss@db.internal:5433/postdesk?sslmode=require", base_dir=BASE
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "postdesk",
        "app",
        "p@ss",
        "db.internal",
        "5433",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_urls_relative_and_absolute():
    assert database_from_url("DATABASE_URL", "sqlite:///db.sqlite3", base_dir=BASE)["NAME"] == str(
        BASE / "db.sqlite3"
    )
    assert database_from_url("DATABASE_URL", "sqlite:////srv/pd.db", base_dir=BASE)["NAME"] == "/srv/pd.db"


@pytest.mark.parametrize("url", ["mysql://root@localhost/postdesk", "redis://localhost", "nonsense"])
def test_unknown_database_scheme_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL has an unsupported scheme"):
        database_from_url("DATABASE_URL", url, base_dir=BASE)


def test_postgres_url_without_database_name_is_refused():
    with pytest.raises(ImproperlyConfigured, match="must name a database"):
        database_from_url("DATABASE_URL", "postgres://localhost:5432", base_dir=BASE)


def _start_django(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_start_up_stops_on_a_non_boolean_debug():
    result = _start_django(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_start_up_stops_on_an_unknown_database_scheme():
    result = _start_django(DATABASE_URL="oracle://db/postdesk")
    assert result.returncode != 0
    assert "DATABASE_URL has an unsupported scheme 'oracle'" in result.stderr


def test_deploy_check_is_clean_with_production_variables():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")},
            "SECRET_KEY": "x9!kq2-production-secret-" + "k" * 40,
            "ALLOWED_HOSTS": "postdesk.example.vn",
            "HTTPS": "true",
            "PRODUCTION": "true",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
