"""The set-up contract: deployment files, production settings, CI entry point, layer contracts."""
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_SERVICES = {"postgres", "redis", "web", "worker", "beat"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _contract(contract_id: str) -> dict:
    contracts = _pyproject()["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c.get("id") == contract_id)


def _make_dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return result.stdout


def test_compose_file_names_the_five_services_each_with_a_health_check():
    services = _compose()["services"]

    assert set(services) == COMPOSE_SERVICES
    for name in COMPOSE_SERVICES:
        assert services[name]["healthcheck"]["test"], f"{name} has no health check command"


def test_compose_web_migrates_collects_static_and_serves_gunicorn_with_production_settings():
    services = _compose()["services"]

    web = _command(services["web"])
    assert "collectstatic --noinput" in web
    assert "migrate --noinput" in web
    assert "gunicorn storefront.wsgi" in web
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "storefront.settings.production"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}
    assert _command(services["worker"]).startswith("celery -A storefront worker")
    assert _command(services["beat"]).startswith("celery -A storefront beat")


def _production_settings(extra_env: dict) -> subprocess.CompletedProcess:
    probe = (
        "import json\n"
        "from django.conf import settings\n"
        "print(json.dumps({\n"
        "    'debug': settings.DEBUG,\n"
        "    'session_cookie_secure': settings.SESSION_COOKIE_SECURE,\n"
        "    'csrf_cookie_secure': settings.CSRF_COOKIE_SECURE,\n"
        "    'hsts_seconds': settings.SECURE_HSTS_SECONDS,\n"
        "    'ssl_redirect': settings.SECURE_SSL_REDIRECT,\n"
        "    'middleware': settings.MIDDLEWARE,\n"
        "    'static_backend': settings.STORAGES['staticfiles']['BACKEND'],\n"
        "    'secret_key': settings.SECRET_KEY,\n"
        "}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="storefront.settings.production", **extra_env)
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_production_settings_turn_debug_off_and_secure_cookies_hsts_and_whitenoise_on():
    result = _production_settings({"DJANGO_SECRET_KEY": "a-production-secret-from-the-environment"})

    assert result.returncode == 0, result.stderr
    production = json.loads(result.stdout)
    assert production["debug"] is False
    assert production["session_cookie_secure"] is True
    assert production["csrf_cookie_secure"] is True
    assert production["hsts_seconds"] >= 31_536_000
    assert production["ssl_redirect"] is True
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in production["middleware"]
    assert production["static_backend"].startswith("whitenoise.storage.")
    assert production["secret_key"] == "a-production-secret-from-the-environment"


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _production_settings({})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_ci_entry_point_is_an_executable_bash_script_running_lint_and_tests():
    ci = ROOT / ".ci" / "run"

    assert os.access(ci, os.X_OK)
    text = ci.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "make lint" in text
    assert "make test" in text
    assert "DATABASE_URL=" in text
    assert "REDIS_URL=" in text
    assert "playwright install" not in text


def test_make_test_runs_the_suite_in_parallel_and_run_serves_the_demo_on_loopback():
    test = _make_dry_run("-o", ".venv/.installed-pyproject", "test")
    run = _make_dry_run("-o", ".venv/.installed-pyproject", "run")
    reset = _make_dry_run("-o", ".venv/.installed-pyproject", "demo-reset")

    assert "pytest -n auto" in test
    assert "manage.py migrate" in run
    assert "manage.py load_demo" in run
    assert "run_embedded 127.0.0.1:8000" in run
    assert "rm -f db.sqlite3" in reset
    assert "manage.py load_demo" in reset


def test_make_test_fails_when_pytest_collects_no_test():
    result = subprocess.run(
        [
            "make", "--no-print-directory", "-o", ".venv/.installed-pyproject", "test",
            "PYTEST_WORKERS=0",
            "PYTEST_ARGS=tests/test_setup_contract.py -k no_test_has_this_name -p no:cacheprovider",
        ],
        cwd=ROOT, capture_output=True, text=True,
    )

    assert result.returncode != 0
    assert "deselected" in result.stdout


def test_every_app_in_the_tree_is_checked_by_the_layer_contracts():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")} | {"storefront"}
    importlinter = _pyproject()["tool"]["importlinter"]

    assert apps <= set(importlinter["root_packages"])
    assert apps <= set(_contract("app-layers")["containers"])


def test_resolver_contract_forbids_catalogue_pricing_and_ordering():
    contract = _contract("resolver-asks-only-accounts-and-territories")

    assert contract["type"] == "forbidden"
    assert contract["source_modules"] == ["segments.resolver"]
    assert {"catalog", "pricing", "ordering"} <= set(contract["forbidden_modules"])
    assert _pyproject()["tool"]["importlinter"]["include_external_packages"] is True


def test_gitignore_keeps_local_state_out_of_the_repository():
    ignored = set((ROOT / ".gitignore").read_text().split())

    for entry in (
        ".venv", "db.sqlite3", "staticfiles/", "media/", "test-artifacts/", "__pycache__/",
        ".pytest_cache/", ".hypothesis/", ".ruff_cache/", "*.egg-info/",
    ):
        assert entry in ignored  # `.venv` without a slash: a link to an environment too
