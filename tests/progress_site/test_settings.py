"""Configuration: typed environment readers and fail-fast start-up."""

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from progress_site.env import REQUIRED, Env

ROOT = Path(__file__).resolve().parents[2]


def test_required_variable_missing_names_it():
    with pytest.raises(ImproperlyConfigured, match=r"^SECRET_KEY is required"):
        Env({}).str("SECRET_KEY")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is required"):
        Env({"SECRET_KEY": "   "}).str("SECRET_KEY", default=REQUIRED)


def test_defaults_apply_when_absent_or_empty_and_are_returned_as_given():
    env = Env({"EMPTY": ""})
    assert env.int("EMPTY", default=7) == 7
    assert env.list("MISSING", default=["a"]) == ["a"]
    assert env.mapping("MISSING", default={}) == {}
    assert env.bool("MISSING", default=False) is False


@pytest.mark.parametrize(
    ("method", "value", "message"),
    [
        ("int", "eight", "must be an integer"),
        ("float", "fast", "must be a number"),
        ("float", "nan", "must be a number"),
        ("bool", "maybe", "must be a boolean"),
        ("mapping", "eu:https://x", "key=value pairs"),
        ("networks", "10.0.0.0/33", "CIDR networks"),
    ],
)
def test_malformed_values_are_refused_with_the_variable_named(method, value, message):
    with pytest.raises(ImproperlyConfigured, match=f"VAR {message}|VAR must"):
        getattr(Env({"VAR": value}), method)("VAR")


def test_integer_bounds_are_enforced():
    with pytest.raises(ImproperlyConfigured, match="PROGRESS_STATEMENT_BUCKETS must be <= 64"):
        Env({"PROGRESS_STATEMENT_BUCKETS": "65"}).int("PROGRESS_STATEMENT_BUCKETS", maximum=64)
    with pytest.raises(ImproperlyConfigured, match=">= 1"):
        Env({"N": "0"}).int("N", minimum=1)


def test_numbers_are_read_with_their_lower_bound():
    assert Env({"WAIT": "0.25"}).float("WAIT", minimum=0.01) == 0.25
    assert Env({}).float("WAIT", default=0.2) == 0.2
    with pytest.raises(ImproperlyConfigured, match="WAIT must be a number >= 5"):
        Env({"WAIT": "1.5"}).float("WAIT", minimum=5.0)


@pytest.mark.parametrize(
    "url", ["mysql://db/x", "postgres://", "not a url", "postgres://host:port/db"]
)
def test_database_url_must_be_a_postgres_url_with_a_host(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        Env({"DATABASE_URL": url}).url("DATABASE_URL", ("postgres", "postgresql"))


def test_typed_readers_parse_lists_maps_networks_and_booleans():
    env = Env(
        {
            "HOSTS": " a.example , b.example,, ",
            "REGIONS": "eu=https://eu.example,us=https://us.example",
            "PROXIES": "10.0.0.0/8, 192.0.2.1",
            "FLAG": "Yes",
            "URLS": "nats://a:4222,tls://b:4222",
        }
    )
    assert env.list("HOSTS") == ["a.example", "b.example"]
    assert env.mapping("REGIONS") == {"eu": "https://eu.example", "us": "https://us.example"}
    assert env.networks("PROXIES") == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.1/32"),
    ]
    assert env.bool("FLAG") is True
    assert env.url_list("URLS", ("nats", "tls")) == ["nats://a:4222", "tls://b:4222"]


def load_settings(**variables: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly these variables."""
    environment = {"PATH": os.environ["PATH"], **variables}
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.PROGRESS_REGION, settings.DATABASES['default']['NAME'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment | {"DJANGO_SETTINGS_MODULE": "progress_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PRODUCTION = {
    "PROGRESS_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "ALLOWED_HOSTS": "lrs.example.org",
    "DATABASE_URL": "postgres://u:p@db.internal:5432/progress",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CELERY_BROKER_URL": "redis://broker.internal:6379/0",
    "PROGRESS_REGION": "eu-west",
    "PROGRESS_CREDENTIAL_PEPPER": "p" * 40,
}


@pytest.mark.slow
def test_local_mode_needs_no_variables_at_all():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["local", "progress"]


@pytest.mark.slow
def test_production_mode_starts_with_every_required_variable():
    result = load_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["eu-west", "progress"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "PROGRESS_REGION",
        "PROGRESS_CREDENTIAL_PEPPER",
    ],
)
def test_production_mode_refuses_to_start_without_a_required_variable(missing):
    variables = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = load_settings(**variables)
    assert result.returncode != 0
    assert f"{missing} is required but not set" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 32 characters"),
        ("ALLOWED_HOSTS", "*", "not '*'"),
        ("DATABASE_URL", "mysql://db/progress", "DATABASE_URL must be a URL with scheme"),
        ("PROGRESS_STATEMENT_BUCKETS", "many", "PROGRESS_STATEMENT_BUCKETS must be an integer"),
        ("DEBUG", "perhaps", "DEBUG must be a boolean"),
        ("PROGRESS_ENV", "staging", "PROGRESS_ENV must be one of local, production"),
    ],
)
def test_malformed_variable_stops_start_up_with_a_clear_message(name, value, message):
    result = load_settings(**(PRODUCTION | {name: value}))
    assert result.returncode != 0
    assert message in result.stderr
