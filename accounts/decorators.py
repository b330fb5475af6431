"""The one gate for pages: who may open them, and what everyone else sees.

APIs use the DRF permission classes in accounts.permissions; pages use `role_required`. Anonymous
browsers go to the login page; a signed-in user of another role gets a 403 page that names who the
page is for and links to their own start page, in words rather than an error code.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Role
from accounts.permissions import user_has_role

# Where each role starts (named URLs), and how a page's audience is named on the 403 page.
START_PAGES = {Role.RADIOLOGIST: "worklist", Role.MANAGER: "worklist", Role.CLINICIAN: "clinician-lookup"}
AUDIENCE = {Role.RADIOLOGIST: "radiologists", Role.MANAGER: "department managers",
            Role.CLINICIAN: "referring clinicians"}


def forbidden(request: HttpRequest, roles: tuple[str, ...]) -> HttpResponse:
    audience = " and ".join(AUDIENCE[role] for role in roles)
    start = START_PAGES.get(getattr(request.user, "role", None))
    return render(request, "accounts/forbidden.html", {"audience": audience, "start": start}, status=403)


def role_required(*roles: str, elsewhere: dict[str, str] | None = None) -> Callable:
    """A page for `roles`. `elsewhere` sends a role to its own page instead of refusing it (the site
    root takes a clinician to the patient lookup). Reads are audited by the view, which knows the study."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if elsewhere and request.user.role in elsewhere:
                return redirect(elsewhere[request.user.role])
            if not user_has_role(request.user, *roles):
                return forbidden(request, roles)
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = roles  # read by the URL-policy test
        return wrapped

    return decorate
