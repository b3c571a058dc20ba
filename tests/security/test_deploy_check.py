"""`manage.py check --deploy` passes with the production settings and the environment a production
deploy has; the same command is a step of .ci/run."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _production_env(**overrides) -> dict:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="storefront.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="storefront.example.org",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://storefront.example.org",
    )
    env.update(overrides)
    return env


def _deploy_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_production_settings_pass_the_deploy_check_without_a_warning():
    result = _deploy_check(_production_env())

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_the_deploy_check_would_catch_a_weak_secret_key():
    result = _deploy_check(_production_env(DJANGO_SECRET_KEY="short"))

    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_ci_runs_the_deploy_check_and_pip_audit():
    script = (ROOT / ".ci" / "run").read_text()

    assert "check --deploy --fail-level WARNING" in script
    assert "pip-audit" in script
