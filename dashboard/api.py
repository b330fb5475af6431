"""The API behind every dashboard chart (/api/stats/...): managers only, thin views over
``dashboard.selectors``. Lists that name studies are audit-logged."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsManager
from dashboard import capacity, selectors
from dashboard.models import DoseReferenceLevel
from dashboard.services import dose_reference_set
from triage.selectors import order_policy, urgency_targets
from worklist.audit import audited_read

TAG = ["stats"]


class WindowSerializer(serializers.Serializer):
    days = serializers.FloatField(required=False, default=30, min_value=1 / 24, max_value=366,
                                  help_text="Length of the window in days, ending now (or at `until`)")
    until = serializers.DateTimeField(required=False,
                                      help_text="End of the window (default: now), 2000 to a year ahead")

    def validate_until(self, value):
        # Window arithmetic and day buckets run past datetime's range near years 1 and 9999
        # ("date value out of range", a 500): only dates this department can have data for.
        earliest, latest = datetime(2000, 1, 1, tzinfo=UTC), timezone.now() + timedelta(days=366)
        if not earliest <= value <= latest:
            raise serializers.ValidationError("until must be between 2000-01-01 and a year from now")
        return value


class StatsApi(APIView):
    permission_classes = [IsManager]
    filters_class: type[serializers.Serializer] = WindowSerializer

    def params(self) -> dict:
        params = self.filters_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data

    def window(self, params: dict) -> selectors.Window:
        return selectors.window_last(params["days"], until=params.get("until"))


# --- response shapes (for the OpenAPI schema) ----------------------------------------------------


class OldestStudySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    accession_number = serializers.CharField()
    modality = serializers.CharField()
    study_description = serializers.CharField()
    arrived_at = serializers.DateTimeField()


class BacklogGroupSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    n = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="Past their due time now")
    oldest_wait_minutes = serializers.FloatField()
    oldest_study = OldestStudySerializer(allow_null=True)


class BacklogSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    by_urgency = BacklogGroupSerializer(many=True)
    by_modality = BacklogGroupSerializer(many=True)
    by_reading_state = BacklogGroupSerializer(many=True)
    by_ai_status = BacklogGroupSerializer(many=True)


class TurnaroundRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="Urgency code, modality or signing day")
    label = serializers.CharField()
    n = serializers.IntegerField()
    median_minutes = serializers.FloatField(allow_null=True)
    p90_minutes = serializers.FloatField(allow_null=True)
    mean_minutes = serializers.FloatField(allow_null=True)
    within_target = serializers.IntegerField()
    within_target_share = serializers.FloatField(allow_null=True)
    target_minutes = serializers.IntegerField(allow_null=True)


class BreachSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    accession_number = serializers.CharField()
    patient_name = serializers.CharField()
    modality = serializers.CharField()
    study_description = serializers.CharField()
    urgency_code = serializers.CharField()
    urgency_name = serializers.CharField()
    arrived_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    reported_at = serializers.DateTimeField(allow_null=True)
    reading_state = serializers.CharField()
    open = serializers.BooleanField(help_text="Still unreported and past due")
    minutes_over = serializers.FloatField()
    turnaround_minutes = serializers.FloatField()


class VolumeSerializer(serializers.Serializer):
    t = serializers.DateTimeField(help_text="Start of the hour or day")
    arrivals = serializers.IntegerField()
    reports = serializers.IntegerField()


class WorkloadSerializer(serializers.Serializer):
    radiologist = serializers.CharField()
    name = serializers.CharField()
    reports = serializers.IntegerField()
    timed_reports = serializers.IntegerField()
    reading_median_minutes = serializers.FloatField(allow_null=True)
    reading_p90_minutes = serializers.FloatField(allow_null=True)
    reading_total_hours = serializers.FloatField()
    by_modality = serializers.DictField(child=serializers.IntegerField())


class ModelPerformanceSerializer(serializers.Serializer):
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    runs = serializers.IntegerField()
    analysed = serializers.IntegerField()
    failed = serializers.IntegerField()
    running = serializers.IntegerField()
    failure_rate = serializers.FloatField(allow_null=True)
    flagged = serializers.IntegerField()
    flag_rate = serializers.FloatField(allow_null=True)
    inference_median_seconds = serializers.FloatField(allow_null=True)
    inference_p90_seconds = serializers.FloatField(allow_null=True)
    findings_accepted = serializers.IntegerField()
    findings_edited = serializers.IntegerField()
    findings_rejected = serializers.IntegerField()
    findings_added = serializers.IntegerField(help_text="Added by readers on studies this model analysed (missed)")
    accepted_share = serializers.FloatField(allow_null=True, help_text="(accepted + edited) / reviewed")
    missed_share = serializers.FloatField(allow_null=True, help_text="added / (accepted + edited + added)")
    flags_reviewed = serializers.IntegerField()
    flags_confirmed = serializers.IntegerField()
    ppv = serializers.FloatField(allow_null=True, help_text="flags confirmed / flags reviewed")
    first_run_at = serializers.DateTimeField(allow_null=True)


class FailureSerializer(serializers.Serializer):
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    reason = serializers.CharField()
    n = serializers.IntegerField()
    last = serializers.DateTimeField(allow_null=True)


class DriftSerializer(serializers.Serializer):
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    baseline_reviews = serializers.IntegerField()
    recent_reviews = serializers.IntegerField()
    baseline_share = serializers.FloatField(allow_null=True)
    recent_share = serializers.FloatField(allow_null=True)
    z = serializers.FloatField(allow_null=True)
    alert = serializers.BooleanField()
    reason = serializers.CharField()


class AiSerializer(serializers.Serializer):
    models = ModelPerformanceSerializer(many=True)
    failures = FailureSerializer(many=True)
    drift = DriftSerializer(many=True)


class AgreementSerializer(serializers.Serializer):
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    week = serializers.DateField()
    agreed = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    accepted_share = serializers.FloatField(allow_null=True)


class DoseProtocolSerializer(serializers.Serializer):
    protocol = serializers.CharField()
    n = serializers.IntegerField()
    ctdi_median = serializers.FloatField(allow_null=True)
    ctdi_p75 = serializers.FloatField(allow_null=True)
    ctdi_max = serializers.FloatField(allow_null=True)
    dlp_median = serializers.FloatField(allow_null=True)
    dlp_p75 = serializers.FloatField(allow_null=True)
    dlp_max = serializers.FloatField(allow_null=True)
    reference_ctdi = serializers.FloatField(allow_null=True)
    reference_dlp = serializers.FloatField(allow_null=True)
    outliers = serializers.IntegerField()


class DoseOutlierSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    accession_number = serializers.CharField()
    study_description = serializers.CharField()
    arrived_at = serializers.DateTimeField()
    ctdi_vol_mgy = serializers.FloatField(allow_null=True)
    dlp_mgy_cm = serializers.FloatField(allow_null=True)
    ref_ctdi = serializers.FloatField(allow_null=True)
    ref_dlp = serializers.FloatField(allow_null=True)
    ratio = serializers.FloatField(help_text="Highest value / reference")


class DoseReferenceSerializer(serializers.ModelSerializer):
    set_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DoseReferenceLevel
        fields = ["protocol", "ctdi_vol_mgy", "dlp_mgy_cm", "set_by", "updated_at"]
        read_only_fields = ["set_by", "updated_at"]
        extra_kwargs = {"protocol": {"validators": []}}  # an upsert: an existing protocol is updated

    def validate(self, data):
        for name in ("ctdi_vol_mgy", "dlp_mgy_cm"):
            if data.get(name) is not None and data[name] <= 0:
                raise serializers.ValidationError({name: "must be positive"})
        return data


# --- views ---------------------------------------------------------------------------------------


class BacklogApi(StatsApi):
    @extend_schema(tags=TAG, responses=BacklogSerializer,
                   summary="Live backlog: open studies by urgency, modality, reading and AI state, oldest in each")
    @audited_read("stats.backlog")
    def get(self, request):
        data = selectors.backlog_summary()
        request.audit.detail = f"{data['total']} open"
        return Response(data)


class TurnaroundApi(StatsApi):
    class Filters(WindowSerializer):
        group = serializers.ChoiceField(choices=list(selectors.TURNAROUND_GROUPS), default="urgency")
        modality = serializers.CharField(required=False, max_length=16)

    filters_class = Filters

    @extend_schema(tags=TAG, parameters=[Filters], responses=TurnaroundRowSerializer(many=True),
                   summary="Turnaround (arrival to signed report): median, 90th percentile, share within target")
    def get(self, request):
        params = self.params()
        return Response(selectors.turnaround_by(group=params["group"], window=self.window(params),
                                                modality=params.get("modality")))


class BreachesApi(StatsApi):
    @extend_schema(tags=TAG, parameters=[WindowSerializer], responses=BreachSerializer(many=True),
                   summary="Target breaches: signed late in the window, or open past due now (worst first)")
    @audited_read("stats.breaches")
    def get(self, request):
        rows = selectors.turnaround_breaches(window=self.window(self.params()))
        request.audit.detail = f"{len(rows)} studies"
        return Response(rows)


class VolumeApi(StatsApi):
    class Filters(WindowSerializer):
        bucket = serializers.ChoiceField(choices=list(selectors.BUCKETS), default="day")

    filters_class = Filters

    @extend_schema(tags=TAG, parameters=[Filters], responses=VolumeSerializer(many=True),
                   summary="Arrivals and signed reports per hour or day")
    def get(self, request):
        params = self.params()
        return Response(selectors.volume_over_time(window=self.window(params), bucket=params["bucket"]))


class WorkloadApi(StatsApi):
    @extend_schema(tags=TAG, parameters=[WindowSerializer], responses=WorkloadSerializer(many=True),
                   summary="Per-radiologist reports, reading time (claim to signature) and modality mix")
    def get(self, request):
        return Response(selectors.radiologist_workload(window=self.window(self.params())))


class AiPerformanceApi(StatsApi):
    @extend_schema(tags=TAG, parameters=[WindowSerializer], responses=AiSerializer,
                   summary="AI per model version: analyses, flag rate, failures, inference time, agreement, drift")
    def get(self, request):
        window = self.window(self.params())
        return Response({
            "models": selectors.ai_model_performance(window=window),
            "failures": selectors.ai_failure_reasons(window=window),
            "drift": selectors.ai_agreement_drift(now=window.until),
        })


class AiAgreementApi(StatsApi):
    @extend_schema(tags=TAG, parameters=[WindowSerializer], responses=AgreementSerializer(many=True),
                   summary="Share of AI findings readers accepted, per model version and week")
    def get(self, request):
        return Response(selectors.ai_agreement_over_time(window=self.window(self.params())))


class DoseApi(StatsApi):
    @extend_schema(tags=TAG, parameters=[WindowSerializer], responses=DoseProtocolSerializer(many=True),
                   summary="CT dose (CTDIvol, DLP) per protocol against the reference level")
    def get(self, request):
        return Response(selectors.dose_by_protocol(window=self.window(self.params())))


class DoseOutliersApi(StatsApi):
    @extend_schema(tags=TAG, parameters=[WindowSerializer], responses=DoseOutlierSerializer(many=True),
                   summary="CT studies above their protocol's reference level")
    @audited_read("stats.dose_outliers")
    def get(self, request):
        rows = selectors.dose_outliers(window=self.window(self.params()))
        request.audit.detail = f"{len(rows)} studies"
        return Response(rows)


class DoseReferenceApi(StatsApi):
    @extend_schema(tags=TAG, responses=DoseReferenceSerializer(many=True), summary="Dose reference levels")
    def get(self, request):
        return Response(DoseReferenceSerializer(DoseReferenceLevel.objects.all(), many=True).data)

    @extend_schema(tags=TAG, request=DoseReferenceSerializer, responses=DoseReferenceSerializer,
                   summary="Set a protocol's dose reference level (audit-logged)")
    def post(self, request):
        data = DoseReferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        level = dose_reference_set(protocol=data.validated_data["protocol"],
                                   ctdi_vol_mgy=data.validated_data.get("ctdi_vol_mgy"),
                                   dlp_mgy_cm=data.validated_data.get("dlp_mgy_cm"), user=request.user,
                                   request=request)
        return Response(DoseReferenceSerializer(level).data)


class CapacityInputsApi(StatsApi):
    @extend_schema(tags=TAG, responses=OpenApiTypes.OBJECT,
                   summary="Measured arrival rates, case mix and reading times the capacity simulation uses")
    def get(self, request):
        return Response(capacity.capacity_inputs().as_dict())


class CapacityApi(StatsApi):
    class CapacityInputSerializer(serializers.Serializer):
        radiologists = serializers.IntegerField(required=False, min_value=1, max_value=100)
        days = serializers.IntegerField(required=False, default=7, min_value=2, max_value=14)
        seed = serializers.IntegerField(required=False, default=1, min_value=0)
        volume_growth = serializers.FloatField(required=False, default=0.3, min_value=0.0, max_value=2.0)

    @extend_schema(tags=TAG, request=CapacityInputSerializer, responses=OpenApiTypes.OBJECT,
                   summary="Run the department simulation on measured rates: ±1 radiologist, more volume")
    def post(self, request):
        data = self.CapacityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = capacity.capacity_plan(inputs=capacity.capacity_inputs(), targets=urgency_targets(),
                                      policy=order_policy(), **data.validated_data)
        return Response(plan)


class _Echo:
    """csv.writer writes into this; each row goes straight to the response stream."""

    def write(self, value: str) -> str:
        return value


class StudiesCsvApi(StatsApi):
    @extend_schema(tags=TAG, parameters=[WindowSerializer],
                   responses={(200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR,
                                                                 description="One row per study that arrived")},
                   summary="CSV export of studies with their times (no patient names)")
    @audited_read("stats.export")
    def get(self, request):
        window = self.window(self.params())
        request.audit.detail = f"studies {window.since:%Y-%m-%d %H:%M} to {window.until:%Y-%m-%d %H:%M}"
        writer = csv.writer(_Echo())
        header = [c.replace("reported_by__username", "reported_by") for c in selectors.EXPORT_COLUMNS]

        def rows():
            yield writer.writerow([*header, "turnaround_minutes", "within_target"])
            for row in selectors.studies_for_export(window=window):
                turnaround = within = ""
                if row["reported_at"]:
                    turnaround = f"{(row['reported_at'] - row['arrived_at']).total_seconds() / 60:.1f}"
                    within = "1" if row["due_at"] and row["reported_at"] <= row["due_at"] else "0"
                yield writer.writerow([_csv_value(row[c]) for c in selectors.EXPORT_COLUMNS] + [turnaround, within])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="studies-{stamp}.csv"'
        return response


def _csv_value(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # Text from DICOM headers must not run as a spreadsheet formula (CSV injection).
        return "'" + value
    return str(value)


class TargetChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    detail = serializers.CharField()


class TargetChangesApi(StatsApi):
    @extend_schema(tags=TAG, responses=TargetChangeSerializer(many=True),
                   summary="Latest turnaround-target changes (from the audit log)")
    def get(self, request):
        return Response(selectors.target_changes())
