"""Dashboard tests: Chart.js served from node_modules, and the browser fixtures of tests/ui.

Until the lead adds the STATICFILES_DIRS entry to config/settings.py, this adds it for the test
session and collects static files with it, so pages that load Chart.js render under the manifest
storage (DEBUG off) and the live server finds the file.
"""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from tests.ui.conftest import browser, login  # noqa: F401 - fixtures for the Playwright tests here

CHARTJS = ("vendor/chartjs", str(settings.BASE_DIR / "node_modules" / "chart.js" / "dist"))


@pytest.fixture(scope="session", autouse=True)
def chartjs_static():
    dirs = list(getattr(settings, "STATICFILES_DIRS", []))
    if any(isinstance(entry, tuple) and entry[0] == CHARTJS[0] for entry in dirs):
        yield
        return
    with override_settings(STATICFILES_DIRS=[*dirs, CHARTJS]):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield
