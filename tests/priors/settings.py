"""Until the lead adds "priors" to config/settings.py: the project settings with the app and its URLs."""

from config.settings import *  # noqa: F403

if "priors" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "priors"]  # noqa: F405
    ROOT_URLCONF = "tests.priors.urls"
