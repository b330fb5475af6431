"""Pages of the clinician side: lookup, study, critical results, identity links, audit search.

Pages render on the server from the same selectors as the REST API; a page's live part is
re-fetched (`?fragment=1`) when the websocket says something changed.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.models import Role, User
from archive import orthanc
from clinician.models import ReferrerLink
from clinician.selectors import (
    StudyNotVisible,
    access_visible_study,
    audit_events_search,
    clinician_critical_results,
    clinician_study_search,
    clinician_study_view,
    critical_result_view,
    department_critical_results,
    key_image_instance,
    referrer_suggestions,
    referrers_seen,
)
from clinician.services import LinkError, critical_result_acknowledge, referrer_link, referrer_unlink
from worklist.audit import audited_read


def _render_live(request, template: str, fragment: str, context: dict):
    return render(request, fragment if request.GET.get("fragment") else template, context)


@role_required(Role.CLINICIAN)
@audited_read("clinician.search")
def lookup_page(request):
    query = request.GET.get("q", "").strip()[:100]
    studies = clinician_study_search(user=request.user, query=query, limit=50 if query else 20)
    request.audit.detail = f"q={query!r}"
    request.audit.shown(studies)
    criticals = clinician_critical_results(request.user)
    request.audit.shown({c.study for c in criticals}, action="critical_results.view", detail="")
    context = {
        "query": query,
        "studies": [clinician_study_view(s) for s in studies],
        "criticals": [critical_result_view(c) for c in criticals],
    }
    return _render_live(request, "clinician/lookup.html", "clinician/_lookup_live.html", context)


@role_required(Role.CLINICIAN)
@audited_read("clinician.study.view")
def study_page(request, study_id: int):
    try:
        study = access_visible_study(user=request.user, study_id=study_id)
    except StudyNotVisible:
        raise Http404 from None
    context = {"study": clinician_study_view(study)}
    return _render_live(request, "clinician/study.html", "clinician/_study_live.html", context)


@require_POST
@role_required(Role.CLINICIAN)
def critical_acknowledge(request, critical_id: int):
    try:
        critical_result_acknowledge(critical_id=critical_id, user=request.user, request=request)
    except StudyNotVisible:
        raise Http404 from None
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("clinician-lookup")
    return redirect(target)


@role_required(Role.RADIOLOGIST, Role.MANAGER)
@audited_read("critical_results.view")
def department_critical_page(request):
    criticals = department_critical_results()
    request.audit.shown({c.study for c in criticals})
    context = {"criticals": [critical_result_view(c) for c in criticals]}
    return _render_live(request, "clinician/department_critical.html", "clinician/_department_critical_live.html",
                        context)


@role_required(Role.MANAGER)
def links_page(request):
    clinicians = User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by("username")
    links = ReferrerLink.objects.select_related("created_by")
    rows = [{"user": user, "links": [link for link in links if link.user_id == user.pk],
             "suggestions": referrer_suggestions(user)} for user in clinicians]
    return render(request, "clinician/links.html", {"rows": rows, "seen": referrers_seen(),
                                                    "clinicians": clinicians})


@require_POST
@role_required(Role.MANAGER)
def link_add(request):
    user = User.objects.filter(username=request.POST.get("username", ""), role=Role.CLINICIAN).first()
    if user is None:
        messages.error(request, "Choose a clinician account.")
    else:
        try:
            link = referrer_link(user=user, referring_name=request.POST.get("referring_name", ""),
                                 created_by=request.user, request=request)
            messages.success(request, f"{user.username} is now linked to {link.referring_name_normalised}.")
        except LinkError as exc:
            messages.error(request, str(exc))
    return redirect("clinician-links")


@require_POST
@role_required(Role.MANAGER)
def link_remove(request, link_id: int):
    referrer_unlink(link_id=link_id, by=request.user, request=request)
    return redirect("clinician-links")


class AuditSearchForm(forms.Form):
    user = forms.CharField(required=False, max_length=150, label="User")
    patient_id = forms.CharField(required=False, max_length=64, label="Patient ID")
    accession = forms.CharField(required=False, max_length=64, label="Accession")
    action = forms.CharField(required=False, max_length=64, label="Action (prefix)")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))


@role_required(Role.MANAGER)
@audited_read("audit.search")
def audit_page(request):
    form = AuditSearchForm(request.GET or None)
    events = []
    if form.is_valid():
        filters = form.cleaned_data
        events = audit_events_search(username=filters["user"], patient_id=filters["patient_id"],
                                     accession=filters["accession"], action=filters["action"],
                                     since=filters["since"], until=filters["until"])
        # Searching the log is itself a look at patient data: it is logged like any other.
        request.audit.detail = ", ".join(f"{k}={v}" for k, v in filters.items() if v) or "no filter"
    return render(request, "clinician/audit.html", {"form": form, "events": events, "searched": form.is_bound})


@role_required(Role.CLINICIAN)
@audited_read("clinician.key_image")
def key_image(request, study_id: int, index: int):
    """A key image of a signed report, rendered by Orthanc; same 404 for not-yours and unknown."""
    try:
        study = access_visible_study(user=request.user, study_id=study_id)
    except StudyNotVisible:
        raise Http404 from None
    instance_id = key_image_instance(study=study, index=index)
    if instance_id is None:
        raise Http404
    try:
        png = orthanc.get_binary(f"instances/{instance_id}/preview")
    except (orthanc.OrthancNotFound, orthanc.OrthancUnavailable):
        raise Http404 from None
    request.audit.detail = str(index)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response
