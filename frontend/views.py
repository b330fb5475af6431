"""Pages. They hold no business rules: data comes from the REST API and the websocket."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from worklist.services import audit_record


@login_required
def worklist_page(request):
    if not request.user.reads_worklist:
        return render(request, "frontend/forbidden.html", status=403)
    audit_record(user=request.user, action="page.worklist", request=request)
    return render(request, "frontend/worklist.html")
