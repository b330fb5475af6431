"""REST API of the clinician side: thin views over clinician.selectors and clinician.services.

"Not yours" and "unknown" answer the same 404 body (`{"detail": "Not found."}`).
"""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, User
from accounts.permissions import IsManager, user_has_role
from clinician.models import ReferrerLink
from clinician.permissions import IsClinician, IsClinicianOrDepartment
from clinician.selectors import (
    StudyNotVisible,
    access_visible_study,
    clinician_critical_results,
    clinician_study_search,
    clinician_study_view,
    critical_result_view,
    department_critical_results,
    referrer_suggestions,
    referrers_seen,
    study_versions,
)
from clinician.services import critical_result_acknowledge, referrer_link, referrer_unlink
from reporting.pdf import report_pdf
from worklist.audit import audited_read


def not_found() -> NotFound:
    return NotFound("Not found.")


class ClinicianTimelineStepSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["ordered", "arrived", "being_read", "reported", "amended"])
    label = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()
    current = serializers.BooleanField()


class ClinicianKeyImageSerializer(serializers.Serializer):
    series_instance_uid = serializers.CharField()
    sop_instance_uid = serializers.CharField()


class ClinicianReportSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()
    impression = serializers.CharField()
    signed_at = serializers.DateTimeField()
    author = serializers.CharField()
    amendment_reason = serializers.CharField()
    critical = serializers.BooleanField()
    key_images = ClinicianKeyImageSerializer(many=True)


class ClinicianVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    signed_at = serializers.DateTimeField()
    amendment_reason = serializers.CharField()


class ClinicianCriticalResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    study_id = serializers.IntegerField()
    note = serializers.CharField()
    report_version = serializers.IntegerField()
    flagged_by = serializers.CharField()
    flagged_at = serializers.DateTimeField()
    acknowledged_by = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    minutes_to_acknowledge = serializers.FloatField(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)
    patient_name = serializers.CharField()
    accession_number = serializers.CharField()


class ClinicianStudySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    patient_id = serializers.CharField()
    patient_name = serializers.CharField()
    patient_birth_date = serializers.DateField(allow_null=True)
    patient_sex = serializers.CharField()
    accession_number = serializers.CharField()
    modality = serializers.CharField()
    body_part = serializers.CharField()
    study_description = serializers.CharField()
    referring_physician = serializers.CharField()
    arrived_at = serializers.DateTimeField()
    state = serializers.CharField(help_text="Waiting to be read, Being read, Reported or Amended")
    timeline = ClinicianTimelineStepSerializer(many=True)
    expected_report_by = serializers.DateTimeField(allow_null=True,
                                                   help_text="From the department's turnaround targets")
    overdue = serializers.BooleanField()
    urgency_name = serializers.CharField()
    reported_at = serializers.DateTimeField(allow_null=True)
    ai_headline = serializers.CharField(help_text="Empty until a report is signed (unless the setting shows it)")
    ai_partial_note = serializers.CharField(
        help_text="With the AI headline: why it may rest on part of the study (images still arriving), else empty")
    report = ClinicianReportSerializer(allow_null=True)
    versions = ClinicianVersionSerializer(many=True)
    critical_results = ClinicianCriticalResultSerializer(many=True)


class ClinicianStudyListApi(APIView):
    permission_classes = [IsClinician]

    class ClinicianFilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                  help_text="Patient name, patient ID or accession number")

    @extend_schema(parameters=[ClinicianFilterSerializer], responses=ClinicianStudySerializer(many=True),
                   summary="Search your own patients' studies")
    @audited_read("clinician.search")
    def get(self, request):
        filters = self.ClinicianFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        query = filters.validated_data.get("q", "")
        studies = clinician_study_search(user=request.user, query=query)
        request.audit.detail = f"q={query!r}"
        request.audit.shown(studies)
        return Response(ClinicianStudySerializer([clinician_study_view(s) for s in studies], many=True).data)


class ClinicianStudyApi(APIView):
    permission_classes = [IsClinician]

    @extend_schema(responses={200: ClinicianStudySerializer, 404: OpenApiResponse(description="Not found.")},
                   summary="One of your studies: status timeline, expected time, report, critical results")
    @audited_read("clinician.study.view")
    def get(self, request, study_id: int):
        try:
            study = access_visible_study(user=request.user, study_id=study_id)
        except StudyNotVisible:
            raise not_found() from None
        return Response(ClinicianStudySerializer(clinician_study_view(study)).data)


class ClinicianReportPdfApi(APIView):
    permission_classes = [IsClinician]

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="the signed report"),
                              404: OpenApiResponse(description="Not found.")},
                   summary="A signed report version of your study as PDF")
    @audited_read("clinician.report.pdf")
    def get(self, request, study_id: int, number: int):
        try:
            study = access_visible_study(user=request.user, study_id=study_id)
        except StudyNotVisible:
            raise not_found() from None
        version = next((v for v in study_versions(study) if v.number == number), None)
        if version is None:
            raise not_found()
        request.audit.detail = f"v{number}"
        response = HttpResponse(report_pdf(version), content_type="application/pdf")
        name = f"report-{study.accession_number or study.pk}-v{number}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response


class CriticalResultListApi(APIView):
    permission_classes = [IsClinicianOrDepartment]

    @extend_schema(responses=ClinicianCriticalResultSerializer(many=True),
                   summary="Critical results: a clinician's own (unacknowledged first), or the department's")
    @audited_read("critical_results.view")
    def get(self, request):
        if user_has_role(request.user, Role.CLINICIAN):
            criticals = clinician_critical_results(request.user)
        else:
            criticals = department_critical_results()
        request.audit.shown({c.study for c in criticals})
        return Response(ClinicianCriticalResultSerializer([critical_result_view(c) for c in criticals], many=True).data)


class CriticalResultAcknowledgeApi(APIView):
    permission_classes = [IsClinician]

    @extend_schema(request=None,
                   responses={200: ClinicianCriticalResultSerializer, 404: OpenApiResponse(description="Not found.")},
                   summary="Acknowledge a critical result of your patient (the first acknowledgement's time is kept)")
    def post(self, request, critical_id: int):
        try:
            critical = critical_result_acknowledge(critical_id=critical_id, user=request.user, request=request)
        except StudyNotVisible:
            raise not_found() from None
        return Response(ClinicianCriticalResultSerializer(critical_result_view(critical)).data)


class ReferrerLinkSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ReferrerLink
        fields = ["id", "username", "referring_name_normalised", "display", "created_by", "created_at"]
        read_only_fields = fields


class ReferrerSeenSerializer(serializers.Serializer):
    key = serializers.CharField()
    display = serializers.CharField()
    names = serializers.ListField(child=serializers.CharField())
    studies = serializers.IntegerField()


class ReferrerLinkListApi(APIView):
    permission_classes = [IsManager]

    class ReferrerLinkInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        referring_name = serializers.CharField(max_length=200, help_text="Family^Given, or 'Family, Given'")

    @extend_schema(responses=ReferrerLinkSerializer(many=True), summary="Clinician ↔ referring-physician links")
    def get(self, request):
        links = ReferrerLink.objects.select_related("user", "created_by")
        return Response(ReferrerLinkSerializer(links, many=True).data)

    @extend_schema(request=ReferrerLinkInputSerializer, responses={201: ReferrerLinkSerializer},
                   summary="Link a referring-physician name to a clinician (exact normalised match only)")
    def post(self, request):
        data = self.ReferrerLinkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(username=data.validated_data["username"]).first()
        if user is None:
            return Response({"detail": "no such user"}, status=status.HTTP_400_BAD_REQUEST)
        link = referrer_link(user=user, referring_name=data.validated_data["referring_name"],
                             created_by=request.user, request=request)
        return Response(ReferrerLinkSerializer(link).data, status=status.HTTP_201_CREATED)


class ReferrerLinkApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(responses={204: None}, summary="Remove a link")
    def delete(self, request, link_id: int):
        referrer_unlink(link_id=link_id, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReferrerSuggestionsApi(APIView):
    permission_classes = [IsManager]

    class SuggestionsFilterSerializer(serializers.Serializer):
        # A CharField refuses NUL characters, which PostgreSQL cannot compare (the fuzz found a 500).
        username = serializers.CharField(max_length=150, help_text="The clinician's username")

    @extend_schema(parameters=[SuggestionsFilterSerializer], responses=ReferrerSeenSerializer(many=True),
                   summary="Near matches for a clinician, for a manager to confirm (never linked automatically)")
    def get(self, request):
        filters = self.SuggestionsFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        user = User.objects.filter(username=filters.validated_data["username"], role=Role.CLINICIAN).first()
        if user is None:
            return Response([])
        return Response(ReferrerSeenSerializer(referrer_suggestions(user), many=True).data)


class ReferrersSeenApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(responses=ReferrerSeenSerializer(many=True),
                   summary="Referring physicians named by studies and orders, grouped by normalised name")
    def get(self, request):
        return Response(ReferrerSeenSerializer(referrers_seen(), many=True).data)
