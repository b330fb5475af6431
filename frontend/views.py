"""Pages. They hold no business rules: data comes from the REST API and the websocket."""

from django.shortcuts import get_object_or_404, render

from accounts.decorators import role_required
from accounts.models import Role
from worklist.models import Study
from worklist.services import audit_record


@role_required(Role.RADIOLOGIST, Role.MANAGER, elsewhere={Role.CLINICIAN: "clinician-lookup"})
def worklist_page(request):
    audit_record(user=request.user, action="page.worklist", request=request)
    return render(request, "frontend/worklist.html")


@role_required(Role.RADIOLOGIST, Role.MANAGER)
def study_page(request, study_id: int):
    """The reading page; it claims the study for a radiologist when it opens (over the API)."""
    study = get_object_or_404(Study, pk=study_id)
    audit_record(user=request.user, action="page.study", study=study, request=request)
    return render(request, "frontend/study.html", {"study_id": study.pk})
