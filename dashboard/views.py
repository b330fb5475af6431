"""Manager pages. They hold no statistics: the charts read /api/stats/... in the browser."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.decorators import role_required
from accounts.models import Role
from worklist.audit import audited_read
from worklist.identity import (
    IdentityNotCorrected,
    IdentityNotInConflict,
    identity_conflicts_open,
    study_identity_resolve,
)
from worklist.models import Study

PAGES = [
    ("overview", "/manager/", "Backlog & turnaround"),
    ("ai", "/manager/ai/", "AI performance"),
    ("capacity", "/manager/capacity/", "Capacity planning"),
    ("dose", "/manager/dose/", "CT dose"),
    ("targets", "/manager/targets/", "Targets"),
    ("identity", "/manager/identity/", "Identity conflicts"),
]


def manager_page(name: str) -> Callable:
    """A page for managers only (accounts.decorators.role_required), its read audited."""

    def decorate(view: Callable) -> Callable:
        return role_required(Role.MANAGER)(audited_read(f"page.manager.{name}")(view))

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


@require_http_methods(["GET", "POST"])
@manager_page("identity")
def identity_page(request):
    """Held arrivals (worklist.identity) and the two decisions; a plain form, no script."""
    message = ""
    if request.method == "POST":
        try:
            study_identity_resolve(study_id=int(request.POST.get("study", "0")), user=request.user, request=request,
                                   decision=request.POST.get("decision", ""), note=request.POST.get("note", "")[:300])
            message = "Resolved."
        except (ValueError, Study.DoesNotExist, IdentityNotInConflict, IdentityNotCorrected) as exc:
            message = f"Not resolved: {exc}"
    return render(request, "dashboard/identity.html", {
        "pages": PAGES, "current": "identity", "conflicts": identity_conflicts_open(), "message": message,
    }, status=200 if not message.startswith("Not") else 409)
