"""REST API of reporting: the reading workflow (findings review, first read, report sign, amend, PDF),
drafts, report history, amendments, supervision and reader-added findings."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsManager, IsRadiologist, ReadsWorklist
from reporting import drafts
from reporting.amend import amendment_open, amendment_prefill
from reporting.findings import reader_finding_add, reader_finding_remove, reader_finding_update
from reporting.history import report_history
from reporting.models import ReportVersion
from reporting.pdf import report_pdf
from reporting.reading import (
    finding_add,
    finding_review,
    first_read_declare,
    report_amend,
    report_prefill,
    report_preview,
    report_sign,
    study_findings,
)
from reporting.rights import AmendNotAllowed, supervisor_set
from reporting.services import image_view_record, report_template_info
from worklist.audit import audited_read
from worklist.models import Study
from worklist.selectors import marks_visible
from worklist.serializers import StudySerializer

FIELD_NAMES = {"impression": "Impression", "findings_text": "Findings", "recommendation": "Recommendation",
               "reason": "Amendment reason", "override_reason": "Override reason", "key_images": "Key images"}


def invalid(serializer) -> Response:
    """A 400 in words the page can show as it is ("Impression: this field may not be blank.")."""
    words = []
    for name, errors in serializer.errors.items():
        label = FIELD_NAMES.get(name, name.replace("_", " ").capitalize())
        texts = [str(e) for e in errors] if isinstance(errors, list) else [str(errors)]
        words.append(f"{label}: {' '.join(texts)}")
    return Response({"detail": " ".join(words), "errors": serializer.errors}, status=status.HTTP_400_BAD_REQUEST)


class FindingSerializer(serializers.Serializer):
    key = serializers.CharField()
    source = serializers.CharField()
    model = serializers.CharField()
    label = serializers.CharField()
    centre_mm = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    diameter_mm = serializers.FloatField(allow_null=True)
    mean_diameter_mm = serializers.FloatField(allow_null=True)
    size_mm = serializers.FloatField(allow_null=True, help_text="in the template's convention (size_label)")
    size_label = serializers.CharField()
    finding_type = serializers.CharField()
    probability = serializers.FloatField(allow_null=True)
    decision = serializers.CharField()
    solid_mm = serializers.FloatField(allow_null=True)
    breast = serializers.CharField()
    depth_mm = serializers.FloatField(allow_null=True)
    views = serializers.ListField(child=serializers.DictField())
    zone = serializers.CharField()
    location = serializers.CharField()


class FindingsApi(APIView):
    permission_classes = [ReadsWorklist]

    class AddSerializer(serializers.Serializer):
        # The allowed types and which of centre, breast or zone is needed depend on the study's
        # template (CT nodule, mammography, prostate MRI): the service checks them.
        centre_mm = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3, required=False,
                                          allow_null=True)
        diameter_mm = serializers.FloatField(min_value=0.5, max_value=300)
        finding_type = serializers.CharField(max_length=32)
        breast = serializers.ChoiceField(choices=["R", "L"], required=False)
        depth_mm = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=300)
        zone = serializers.ChoiceField(choices=["pz", "tz"], required=False)
        location = serializers.CharField(required=False, allow_blank=True, max_length=120)
        note = serializers.CharField(required=False, allow_blank=True, max_length=300)

    @extend_schema(responses=FindingSerializer(many=True), summary="AI findings with the reader's decisions")
    @audited_read("study.findings")
    def get(self, request, study_id: int):
        study = get_object_or_404(Study, pk=study_id)
        if not marks_visible(study, request.user):
            return Response({"detail": "second-reader mode: findings are shown after the first read"},
                            status=status.HTTP_409_CONFLICT)
        return Response(FindingSerializer([f.as_dict() for f in study_findings(study)], many=True).data)

    @extend_schema(request=AddSerializer, responses={201: FindingSerializer},
                   summary="Add a finding the AI missed")
    def post(self, request, study_id: int):
        if not IsRadiologist().has_permission(request, self):
            return Response({"detail": "only radiologists add findings"}, status=status.HTTP_403_FORBIDDEN)
        get_object_or_404(Study, pk=study_id)
        data = self.AddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = finding_add(study_id=study_id, user=request.user, **data.validated_data)
        view = next(f for f in study_findings(review.study) if f.key == f"reader-{review.pk}")
        return Response(FindingSerializer(view.as_dict()).data, status=status.HTTP_201_CREATED)


class FindingReviewApi(APIView):
    permission_classes = [IsRadiologist]

    class FindingReviewInputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["accepted", "rejected", "edited"])
        diameter_mm = serializers.FloatField(required=False, min_value=0.5, max_value=300)
        finding_type = serializers.CharField(max_length=32, required=False)
        note = serializers.CharField(required=False, allow_blank=True, max_length=300)

    @extend_schema(request=FindingReviewInputSerializer, responses={200: FindingSerializer},
                   summary="Accept, reject or edit an AI finding")
    def post(self, request, study_id: int, key: str):
        get_object_or_404(Study, pk=study_id)
        data = self.FindingReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = finding_review(study_id=study_id, user=request.user, key=key, **data.validated_data)
        view = next(f for f in study_findings(review.study) if f.key == key)
        return Response(FindingSerializer(view.as_dict()).data)


class FirstReadDoneApi(APIView):
    permission_classes = [IsRadiologist]

    @extend_schema(request=None, responses={200: OpenApiResponse(description="marks now visible")},
                   summary="Second-reader mode: declare the unaided read done")
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        study = first_read_declare(study_id=study_id, user=request.user)
        return Response({"first_read_done_at": study.first_read_done_at})


class SignedVersionSerializer(serializers.Serializer):
    """What the report payload and the history both say of a signed version."""

    number = serializers.IntegerField()
    template = serializers.CharField()
    author = serializers.CharField(source="author.username")
    signed_at = serializers.DateTimeField()
    critical = serializers.BooleanField()
    # The signing guard's objections the reader overrode, and why (empty when none).
    override_reason = serializers.CharField()
    overridden = serializers.ListField(child=serializers.CharField())
    archived = serializers.SerializerMethodField()

    def get_archived(self, version) -> bool:
        return bool(version.archive_instance_id)


class ReportVersionSerializer(SignedVersionSerializer):
    fields = serializers.JSONField()
    text = serializers.CharField()
    reading_mode = serializers.CharField()
    amendment_reason = serializers.CharField()


class ReportApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(summary="The signed report versions, or a prefilled draft",
                   responses={200: OpenApiResponse(description="{draft, versions, template, choices}")})
    @audited_read("study.report")
    def get(self, request, study_id: int):
        study = get_object_or_404(Study, pk=study_id)
        versions = list(study.report.versions.select_related("author")) if hasattr(study, "report") else []
        requested = request.query_params.get("template", "")
        if not requested and versions:
            requested = versions[-1].template
        # An amendment in progress starts from the corrected findings (reporting/amend.py).
        amending = bool(versions) and study.claimed_by_id == request.user.pk
        info = report_template_info(study, requested)
        if amending:
            draft = amendment_prefill(study, request.user, requested)
        else:
            draft = None if versions else report_prefill(study, request.user, requested)
        return Response({"draft": draft, "amending": amending,
                         "versions": ReportVersionSerializer(versions, many=True).data, **info})


class ReportInputSerializer(serializers.Serializer):
    template = serializers.CharField(required=False, allow_blank=True, max_length=16,
                                     help_text="the reader's template choice; the study's default if blank")
    fleischner_risk = serializers.CharField(required=False, allow_blank=True, max_length=8)
    findings_text = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    impression = serializers.CharField(max_length=5000)
    recommendation = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    lungrads_category = serializers.CharField(required=False, allow_blank=True, max_length=4)
    birads_category = serializers.CharField(required=False, allow_blank=True, max_length=4)
    breast_composition = serializers.CharField(required=False, allow_blank=True, max_length=1)
    pirads_lesions = serializers.ListField(child=serializers.DictField(), required=False, max_length=4)
    gland_volume_ml = serializers.FloatField(required=False, allow_null=True)
    psa_ng_ml = serializers.FloatField(required=False, allow_null=True)
    key_images = serializers.ListField(child=serializers.DictField(), required=False, max_length=12)
    critical = serializers.BooleanField(required=False, default=False)
    critical_note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ReportSignInputSerializer(ReportInputSerializer):
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                            help_text="signs over the guard's objections; stored and audited")


class ReportPreviewApi(APIView):
    permission_classes = [IsRadiologist]

    class PreviewInputSerializer(ReportInputSerializer):
        impression = serializers.CharField(required=False, allow_blank=True, max_length=5000)
        edited = serializers.ListField(child=serializers.ChoiceField(choices=["impression", "recommendation"]),
                                       required=False, default=list)

    @extend_schema(request=PreviewInputSerializer,
                   responses={200: OpenApiResponse(description="{fields, auto, text, problems}")},
                   summary="The report as it would be signed, and what the signing guard would refuse")
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        data = self.PreviewInputSerializer(data=request.data)
        if not data.is_valid():
            return invalid(data)
        fields = dict(data.validated_data)
        edited = fields.pop("edited")
        return Response(report_preview(study_id=study_id, user=request.user, fields=fields, edited=edited))


class ImagesViewedApi(APIView):
    permission_classes = [IsRadiologist]

    class ImagesViewedInputSerializer(serializers.Serializer):
        series_id = serializers.IntegerField()
        shown = serializers.BooleanField()
        error = serializers.CharField(required=False, allow_blank=True, max_length=300)

    @extend_schema(request=ImagesViewedInputSerializer, responses={204: None},
                   summary="The reading page reports whether its viewer could show a series")
    def post(self, request, study_id: int):
        study = get_object_or_404(Study, pk=study_id)
        data = self.ImagesViewedInputSerializer(data=request.data)
        if not data.is_valid():
            return invalid(data)
        image_view_record(study=study, user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReportSignApi(APIView):
    permission_classes = [IsRadiologist]

    @extend_schema(request=ReportSignInputSerializer, responses={201: ReportVersionSerializer},
                   summary="Sign the report (ends the read; stored in the archive as DICOM PDF). Refused (409, "
                           "problems listed) while an AI finding is unreviewed, the images were not viewed or the "
                           "impression contradicts the category, unless override_reason is given")
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        data = ReportSignInputSerializer(data=request.data)
        if not data.is_valid():
            return invalid(data)
        fields = dict(data.validated_data)
        critical, note = fields.pop("critical"), fields.pop("critical_note", "")
        override = fields.pop("override_reason", "")
        version = report_sign(study_id=study_id, user=request.user, fields=fields, critical=critical,
                              critical_note=note, override_reason=override)
        return Response(ReportVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class ReportAmendApi(APIView):
    permission_classes = [IsRadiologist]

    class ReportAmendInputSerializer(ReportSignInputSerializer):
        # Checked below so that a missing reason gets a sentence, not a field-error map.
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(request=ReportAmendInputSerializer, responses={201: ReportVersionSerializer},
                   summary="Amend a signed report: a new version; earlier versions are kept")
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        data = self.ReportAmendInputSerializer(data=request.data)
        if not data.is_valid():
            return invalid(data)
        fields = dict(data.validated_data)
        critical, note, reason = fields.pop("critical"), fields.pop("critical_note", ""), fields.pop("reason")
        override = fields.pop("override_reason", "")
        if not reason.strip():
            return Response({"detail": "Give a reason for the amendment: say what was corrected."},
                            status=status.HTTP_400_BAD_REQUEST)
        version = report_amend(study_id=study_id, user=request.user, fields=fields, reason=reason,
                               critical=critical, critical_note=note, override_reason=override)
        return Response(ReportVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class ReportPdfApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="the signed report")},
                   summary="A signed report version as PDF")
    @audited_read("report.pdf")
    def get(self, request, study_id: int, number: int):
        study = get_object_or_404(Study, pk=study_id)
        version = get_object_or_404(ReportVersion, report__study=study, number=number)
        request.audit.detail = f"v{number}"
        response = HttpResponse(report_pdf(version), content_type="application/pdf")
        name = f"report-{study.accession_number or study.pk}-v{number}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response



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
