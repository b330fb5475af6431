"""One audited-read helper (issue 17, STYLE.md "cross-cutting checks once"): views that show patient
data declare `@audited_read(action)`; none writes its read's audit row by hand. What the helper
writes is checked here on small views; that every real read leaves its row is
`test_every_read_is_audited.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from tests.worklist.factories import make_study
from worklist.audit import audited_read
from worklist.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "archive", "clinician", "dashboard", "frontend", "inference", "priors", "reporting", "triage",
        "worklist")
# Handlers that read (GET, or a function view that is not POST-only) and still call audit_record.
ALLOWED: set[tuple[str, str]] = set()


def _view_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if path.name in ("api.py", "views.py", "ohif.py") or path.name.endswith("_api.py"):
                yield path


def _calls_audit_record(node) -> bool:
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == "audit_record"
               for n in ast.walk(node))


def _is_post_only(function: ast.FunctionDef) -> bool:
    return any(getattr(d, "id", getattr(d, "attr", "")) == "require_POST" for d in function.decorator_list)


def read_handlers_auditing_by_hand() -> list[str]:
    found = []
    for path in _view_modules():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not _is_post_only(node):
                handlers = [(node.name, node)]
            elif isinstance(node, ast.ClassDef):
                handlers = [(f"{node.name}.{f.name}", f) for f in node.body
                            if isinstance(f, ast.FunctionDef) and f.name == "get"]
            else:
                continue
            relative = path.relative_to(ROOT).as_posix()
            found += [f"{relative}:{name}" for name, f in handlers
                      if _calls_audit_record(f) and (relative, name) not in ALLOWED]
    return found


def test_no_read_handler_writes_its_audit_row_by_hand():
    assert read_handlers_auditing_by_hand() == []


# --- the helper itself ---------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


@audited_read("test.page")
def page(request, study_id: int):
    return HttpResponse("ok")


@audited_read("test.list")
def listing(request):
    request.audit.detail = "q='x'"
    request.audit.shown(request.studies)
    request.audit.shown(request.criticals, action="test.criticals", detail="")
    return HttpResponse("ok")


@audited_read("test.refused")
def refused(request, study_id: int):
    raise Http404


class SeriesApi(APIView):
    @audited_read("test.series")
    def get(self, request, study_id: int):
        request.audit.study = request.series_study
        request.audit.detail = "series 7"
        return Response(status=request.answer)


def _request(user):
    request = RequestFactory().get("/x/", REMOTE_ADDR="10.1.2.3")
    request.user = user
    return request


def rows():
    return list(AuditEvent.objects.order_by("id").values_list("action", "study_id", "detail", "remote_addr"))


def test_a_page_read_names_the_urls_study_the_user_and_the_address(radiologist):
    study = make_study()
    page(_request(radiologist), study_id=study.pk)
    assert rows() == [("test.page", study.pk, "", "10.1.2.3")]
    assert AuditEvent.objects.get().user == radiologist


def test_a_list_leaves_a_row_per_study_shown_and_one_row_when_it_showed_none(radiologist):
    first, second = make_study(), make_study()
    request = _request(radiologist)
    request.studies, request.criticals = [first, second], [second]
    listing(request)
    assert rows() == [("test.list", first.pk, "q='x'", "10.1.2.3"), ("test.list", second.pk, "q='x'", "10.1.2.3"),
                      ("test.criticals", second.pk, "", "10.1.2.3")]
    AuditEvent.objects.all().delete()
    request = _request(radiologist)
    request.studies, request.criticals = [], []
    listing(request)
    assert rows() == [("test.list", None, "q='x'", "10.1.2.3")]


def test_a_refused_read_leaves_no_read_row(radiologist):
    with pytest.raises(Http404):
        refused(_request(radiologist), study_id=1)
    assert rows() == []


@pytest.mark.parametrize("answer", [200, 304, 409, 422])
def test_a_drf_read_names_the_study_the_view_found_whatever_it_answered(radiologist, answer):
    study, other = make_study(), make_study()
    request = APIRequestFactory().get("/x/", REMOTE_ADDR="10.1.2.3")
    request.series_study, request.answer = study, answer
    from rest_framework.test import force_authenticate

    force_authenticate(request, user=radiologist)
    response = SeriesApi.as_view()(request, study_id=other.pk)
    assert response.status_code == answer
    assert rows() == [("test.series", study.pk, "series 7", "10.1.2.3")]


def test_an_error_about_an_id_that_names_no_study_is_audited_without_a_study(radiologist):
    @audited_read("test.missing")
    def missing(request, study_id: int):
        return HttpResponse(status=404)

    missing(_request(radiologist), study_id=987_654_321)
    assert rows() == [("test.missing", None, "", "10.1.2.3")]


@pytest.mark.django_db(transaction=True)
def test_a_list_reads_row_is_committed_when_its_answer_arrives(api_as, radiologist):
    """Seen from another connection the moment the response is back: durable, not pending."""
    import threading

    from django.db import connections

    make_study()
    assert api_as(radiologist).get("/api/worklist/").status_code == 200
    seen = []

    def other_connection() -> None:
        try:
            seen.append(AuditEvent.objects.filter(user=radiologist, action="worklist.view").count())
        finally:
            connections.close_all()

    reader = threading.Thread(target=other_connection)
    reader.start()
    reader.join()
    assert seen == [1]


@pytest.mark.django_db(transaction=True)
def test_a_read_whose_audit_row_cannot_be_written_fails(api_as, radiologist):
    from django.db import connection

    make_study()
    client = api_as(radiologist)
    client.raise_request_exception = False
    with connection.cursor() as cursor:  # the database refuses every new audit row
        cursor.execute("ALTER TABLE worklist_auditevent ADD CONSTRAINT test_no_audit CHECK (false) NOT VALID")
    try:
        response = client.get("/api/worklist/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE worklist_auditevent DROP CONSTRAINT test_no_audit")
    assert response.status_code == 500
    assert "results" not in response.content.decode()
