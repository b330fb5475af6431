"""Pages. They hold no business rules: data comes from the REST API and the websocket."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from accounts.models import Role
from worklist.models import Study
from worklist.services import audit_record


@login_required
def worklist_page(request):
    if request.user.role == Role.CLINICIAN:
        return redirect("/clinician/")
    if not request.user.reads_worklist:
        return render(request, "frontend/forbidden.html", status=403)
    audit_record(user=request.user, action="page.worklist", request=request)
    return render(request, "frontend/worklist.html")


@login_required
def study_page(request, study_id: int):
    """The reading page; it claims the study for a radiologist when it opens (over the API)."""
    if not request.user.reads_worklist:
        return render(request, "frontend/forbidden.html", status=403)
    study = get_object_or_404(Study, pk=study_id)
    audit_record(user=request.user, action="page.study", study=study, request=request)
    return render(request, "frontend/study.html", {"study_id": study.pk})
