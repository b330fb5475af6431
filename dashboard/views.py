"""Manager pages. They hold no statistics: the charts read /api/stats/... in the browser."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from worklist.services import audit_record

PAGES = [
    ("overview", "/manager/", "Backlog & turnaround"),
    ("ai", "/manager/ai/", "AI performance"),
    ("capacity", "/manager/capacity/", "Capacity planning"),
    ("dose", "/manager/dose/", "CT dose"),
    ("targets", "/manager/targets/", "Targets"),
]


def manager_page(name: str) -> Callable:
    """A page for managers only: others get 403, anonymous users the login page."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_manager:
                return render(request, "dashboard/forbidden.html", status=403)
            audit_record(user=request.user, action=f"page.manager.{name}", request=request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _render(request: HttpRequest, name: str, template: str) -> HttpResponse:
    return render(request, template, {"pages": PAGES, "current": name})


@manager_page("overview")
def overview_page(request):
    return _render(request, "overview", "dashboard/overview.html")


@manager_page("ai")
def ai_page(request):
    return _render(request, "ai", "dashboard/ai.html")


@manager_page("capacity")
def capacity_page(request):
    return _render(request, "capacity", "dashboard/capacity.html")


@manager_page("dose")
def dose_page(request):
    return _render(request, "dose", "dashboard/dose.html")


@manager_page("targets")
def targets_page(request):
    return _render(request, "targets", "dashboard/targets.html")
