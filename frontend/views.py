"""Pages. They hold no business rules: data comes from the REST API and the websocket."""

from django.shortcuts import get_object_or_404, render

from accounts.decorators import role_required
from accounts.models import Role
from worklist.audit import audited_read
from worklist.models import Study


@role_required(Role.RADIOLOGIST, Role.MANAGER, elsewhere={Role.CLINICIAN: "clinician-lookup"})
@audited_read("page.worklist")
def worklist_page(request):
    return render(request, "frontend/worklist.html")


@role_required(Role.RADIOLOGIST, Role.MANAGER)
@audited_read("page.study")
def study_page(request, study_id: int):
    """The reading page; it claims the study for a radiologist when it opens (over the API)."""
    study = get_object_or_404(Study, pk=study_id)
    return render(request, "frontend/study.html", {"study_id": study.pk})
