"""REST API of reporting: drafts, report history, amendments, reader-added findings."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsManager, IsRadiologist, ReadsWorklist
from reporting import drafts
from reporting.amend import amendment_open
from reporting.findings import reader_finding_add, reader_finding_remove, reader_finding_update
from reporting.history import report_history
from reporting.reading import study_findings
from reporting.reading_api import FindingSerializer, SignedVersionSerializer
from reporting.rights import AmendNotAllowed, supervisor_set
from worklist.audit import audited_read
from worklist.models import Study
from worklist.serializers import StudySerializer


class DraftSerializer(serializers.Serializer):
    fields = serializers.JSONField()
    saved_at = serializers.DateTimeField()


class ReportDraftApi(APIView):
    """The unsigned draft of the reader holding the read."""

    permission_classes = [IsRadiologist]

    class DraftInputSerializer(serializers.Serializer):
        fields = serializers.DictField()

    @extend_schema(responses={200: DraftSerializer, 204: OpenApiResponse(description="no draft saved"),
                              409: OpenApiResponse(description="the study is not claimed by this reader")},
                   summary="The reader's unsigned report draft")
    @audited_read("report.draft")
    def get(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        draft = drafts.draft_get(study_id=study_id, user=request.user)
        if draft is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(DraftSerializer(draft).data)

    @extend_schema(request=DraftInputSerializer, responses={200: DraftSerializer},
                   summary="Save the reader's unsigned report draft (as they type)")
    def put(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        data = self.DraftInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = drafts.draft_save(study_id=study_id, user=request.user, fields=data.validated_data["fields"])
        return Response(DraftSerializer(draft).data)


class HistoryEntrySerializer(SignedVersionSerializer):
    author_name = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    pdf = serializers.SerializerMethodField()

    def get_author_name(self, version) -> str:
        return version.author.get_full_name() or version.author.username

    def get_reason(self, version) -> str:
        return version.amendment_reason if version.number > 1 else "first report"

    def get_pdf(self, version) -> str:
        return f"/api/studies/{version.report.study_id}/report/v{version.number}.pdf"


class HistoryPagination(LimitOffsetPagination):
    default_limit = 10
    max_limit = 100

    def get_offset(self, request) -> int:
        # An absurd offset is past the end, not a database integer overflow.
        return min(super().get_offset(request), 10**9)


class ReportHistoryApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(responses=HistoryEntrySerializer(many=True),
                   summary="The study's signed report versions, newest first (who, when, why), paged")
    @audited_read("report.history")
    def get(self, request, study_id: int):
        study = get_object_or_404(Study, pk=study_id)
        paginator = HistoryPagination()
        page = paginator.paginate_queryset(report_history(study=study), request, view=self)
        return paginator.get_paginated_response(HistoryEntrySerializer(page, many=True).data)


class AmendmentOpenApi(APIView):
    permission_classes = [IsRadiologist]

    @extend_schema(request=None, responses={200: OpenApiResponse(description="the study, claimed to amend"),
                                            403: OpenApiResponse(description="this reader may not amend"),
                                            409: OpenApiResponse(description="not signed, or amended by another")},
                   summary="Open an amendment: claims the reported study so its findings can be reviewed again")
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        study = amendment_open(study_id=study_id, user=request.user, request=request)
        return Response(StudySerializer(study).data)


class SupervisorApi(APIView):
    """Managers mark which radiologists supervise (may amend colleagues' reports)."""

    permission_classes = [IsManager]

    class SupervisorInputSerializer(serializers.Serializer):
        is_supervisor = serializers.BooleanField()

    @extend_schema(request=SupervisorInputSerializer, responses={200: SupervisorInputSerializer},
                   summary="Mark or unmark a radiologist as supervisor")
    def post(self, request, username: str):
        data = self.SupervisorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = supervisor_set(manager=request.user, username=username, value=data.validated_data["is_supervisor"])
        except AmendNotAllowed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return Response({"is_supervisor": user.is_supervisor})


def _finding_view(study, key: str) -> dict:
    return next(f for f in study_findings(study) if f.key == key).as_dict()


class FindingImageSerializer(serializers.Serializer):
    series_id = serializers.IntegerField()
    slice_index = serializers.IntegerField(min_value=0)
    sop_instance_uid = serializers.CharField(required=False, allow_blank=True, max_length=64)
    pixel = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=2)


class ReaderFindingsApi(APIView):
    """Add a missed finding, usually placed by a click on the image (the viewer's onPick)."""

    permission_classes = [IsRadiologist]

    class ReaderFindingAddSerializer(serializers.Serializer):
        # Sizes are checked by the service, which says what is wrong in words.
        diameter_mm = serializers.FloatField()
        finding_type = serializers.CharField(max_length=32)
        solid_mm = serializers.FloatField(required=False, allow_null=True)
        centre_mm = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3, required=False,
                                          allow_null=True)
        image = FindingImageSerializer(required=False, allow_null=True)
        breast = serializers.ChoiceField(choices=["R", "L"], required=False)
        depth_mm = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=300)
        zone = serializers.ChoiceField(choices=["pz", "tz"], required=False)
        location = serializers.CharField(required=False, allow_blank=True, max_length=120)
        note = serializers.CharField(required=False, allow_blank=True, max_length=300)

    @extend_schema(request=ReaderFindingAddSerializer, responses={201: FindingSerializer},
                   summary="Add a finding the AI missed, placed on an image")
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        data = self.ReaderFindingAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = reader_finding_add(study_id=study_id, user=request.user, **data.validated_data)
        return Response(FindingSerializer(_finding_view(review.study, f"reader-{review.pk}")).data,
                        status=status.HTTP_201_CREATED)


class ReaderFindingApi(APIView):
    """Edit or remove a reader-added finding, until the report is signed."""

    permission_classes = [IsRadiologist]

    class ReaderFindingEditSerializer(serializers.Serializer):
        diameter_mm = serializers.FloatField(required=False)
        finding_type = serializers.CharField(max_length=32, required=False)
        solid_mm = serializers.FloatField(required=False, allow_null=True)
        centre_mm = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3, required=False)
        note = serializers.CharField(required=False, allow_blank=True, max_length=300)

    @extend_schema(request=ReaderFindingEditSerializer, responses={200: FindingSerializer},
                   summary="Edit a reader-added finding")
    def patch(self, request, study_id: int, key: str):
        study = get_object_or_404(Study, pk=study_id)
        data = self.ReaderFindingEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reader_finding_update(study_id=study_id, user=request.user, key=key, **data.validated_data)
        return Response(FindingSerializer(_finding_view(study, key)).data)

    @extend_schema(request=None, responses={204: None}, summary="Remove a reader-added finding")
    def delete(self, request, study_id: int, key: str):
        get_object_or_404(Study, pk=study_id)
        reader_finding_remove(study_id=study_id, user=request.user, key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)
