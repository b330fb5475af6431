"""The browser fixtures of the UI tests, for the viewer's own Playwright test."""

from tests.ui.conftest import browser, login  # noqa: F401  (re-exported fixtures)
