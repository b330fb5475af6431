"""REST API of the worklist: thin views that validate, call a selector or service, serialise."""

import hashlib
import json

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ReadingMode, Role, User
from accounts.permissions import IsManager, IsRadiologist, ReadsWorklist, SendsOrders
from config.pagination import BoundedLimitOffsetPagination
from triage.models import UrgencyClass
from triage.priority import AGEING_MODES
from triage.rules import QUEUE_NAMES
from triage.selectors import order_policy
from worklist.audit import audited_read
from worklist.identity import (
    identity_conflicts_open,
    study_identity_resolve,
)
from worklist.models import Alert, ReadingState, Study, StudyStatus
from worklist.page_cache import Page, page_get, page_put, worklist_version
from worklist.rows import page_cached, page_remember, study_rows_json
from worklist.selectors import worklist_page_keys, worklist_studies
from worklist.serializers import (
    AlertSerializer,
    IdentityConflictSerializer,
    StudyDetailSerializer,
    StudySerializer,
    UrgencyClassSerializer,
)
from worklist.server_timing import ServerTiming
from worklist.services import (
    ageing_policy_update,
    alert_acknowledge,
    audit_record,
    order_receive,
    study_assign,
    study_claim,
    study_release,
    urgency_target_update,
)


class WorklistApi(APIView):
    permission_classes = [ReadsWorklist]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=StudyStatus.choices, required=False)
        modality = serializers.CharField(required=False, max_length=16)
        urgency = serializers.CharField(required=False, max_length=32)
        queue = serializers.ChoiceField(choices=list(QUEUE_NAMES.items()), required=False)
        reading_state = serializers.ChoiceField(choices=ReadingState.choices, required=False)
        include_reported = serializers.BooleanField(required=False, default=False)
        mine = serializers.BooleanField(required=False, default=False)
        search = serializers.CharField(required=False, max_length=100)
        updated_since = serializers.DateTimeField(required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=StudySerializer(many=True),
        summary="The worklist in priority order (earliest due first)",
    )
    @audited_read("worklist.view")  # every read, a revalidated (304) one too
    def get(self, request):
        timing = request.audit.timing = ServerTiming()
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = BoundedLimitOffsetPagination()
        paginator.request, paginator.limit, paginator.offset = (
            request, paginator.get_limit(request), paginator.get_offset(request)
        )
        # The page from this process's cache while no study or user has changed (worklist.page_cache);
        # the reader is in the key only when the filters depend on the reader.
        page_key = (request.build_absolute_uri(), request.user.pk if filters.validated_data.get("mine") else None)
        with timing("db"):
            version = worklist_version()
            page = page_get((version, *page_key)) if version is not None else None
            if page is None:
                studies = worklist_studies(user=request.user, **filters.validated_data)
                keys_text, count = worklist_page_keys(studies, limit=paginator.limit, offset=paginator.offset)
                # The page is the same bytes while its count, links and rows' keys are (see worklist.rows).
                digest = hashlib.blake2b(repr((count, request.get_full_path())).encode(), digest_size=16)
                digest.update((keys_text or "").encode())
                page = Page(etag='"' + digest.hexdigest() + '"', count=count, keys_text=keys_text,
                            shown=max(0, min(paginator.limit, count - paginator.offset)) if keys_text else 0)
                if version is not None:
                    page_put((version, *page_key), page)
        paginator.count, etag = page.count, page.etag
        request.audit.detail = f"{page.shown} studies"
        if etag in (request.headers.get("If-None-Match") or ""):
            response = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
        else:
            with timing("rows"):
                body = page_cached((etag, page_key[0]))
                if body is None:
                    keys = [tuple(key) for key in json.loads(page.keys_text)] if page.keys_text else []
                    body = b'{"count":%d,"next":%s,"previous":%s,"results":[%s]}' % (
                        paginator.count,
                        json.dumps(paginator.get_next_link()).encode(),
                        json.dumps(paginator.get_previous_link()).encode(),
                        b",".join(study_rows_json(keys)),
                    )
                    page_remember((etag, page_key[0]), body)
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        response["Server-Timing"] = timing.header()
        return response


class StudyDetailApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(responses=StudyDetailSerializer, summary="One study with its series and AI results")
    @audited_read("study.view")
    def get(self, request, study_id: int):
        study = get_object_or_404(
            Study.objects.select_related("claimed_by").prefetch_related("series", "analyses"), pk=study_id
        )
        return Response(StudyDetailSerializer(study).data)


class StudyClaimApi(APIView):
    permission_classes = [IsRadiologist]

    @extend_schema(
        request=None,
        responses={200: StudySerializer, 409: OpenApiResponse(description="Claimed by someone else or reported")},
        summary="Claim a study for reading (exclusive)",
    )
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        study = study_claim(study_id=study_id, user=request.user)
        audit_record(user=request.user, action="study.claim", study=study, request=request)
        return Response(StudySerializer(study).data)


class StudyReleaseApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(
        request=None,
        responses={200: StudySerializer, 409: OpenApiResponse(description="Claimed by someone else")},
        summary="Release a claimed study (its reader, or a manager)",
    )
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        study = study_release(study_id=study_id, user=request.user)
        audit_record(user=request.user, action="study.release", study=study, request=request)
        return Response(StudySerializer(study).data)


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "request body too large"


class Hl7Parser(BaseParser):
    """HL7 v2 ER7 text, as a RIS interface engine posts it.

    An imaging order is a few hundred bytes: more than HL7_MAX_BYTES is refused unread (a 30 MB
    body was accepted, and 1 MB of separators held a worker for seconds in the parser).
    """

    media_type = "application/hl7-v2"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        limit = settings.HL7_MAX_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise BodyTooLarge(f"an HL7 order may be at most {limit} bytes")
        return body.decode("utf-8", errors="replace")


class PlainTextParser(Hl7Parser):
    media_type = "text/plain"


class Hl7OrderApi(APIView):
    permission_classes = [SendsOrders]
    parser_classes = [Hl7Parser, PlainTextParser]

    @extend_schema(
        request={"application/hl7-v2": str, "text/plain": str},
        responses={200: OpenApiResponse(description="AA: order stored"),
                   400: OpenApiResponse(description="AE: the reason the message was refused (another patient's "
                                                    "accession among them)"),
                   413: OpenApiResponse(description="Body over HL7_MAX_BYTES")},
        summary="Receive an imaging order (HL7 v2 ORM^O01 / OMI^O23) from the RIS",
    )
    def post(self, request):
        message = request.data if isinstance(request.data, str) else ""
        order = order_receive(message=message)
        audit_record(user=request.user, action="order.receive", detail=order.accession_number, request=request)
        return Response({"ack": "AA", "accession_number": order.accession_number, "priority": order.priority})


class AlertListApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(responses=AlertSerializer(many=True), summary="Open (unacknowledged) alerts")
    def get(self, request):
        alerts = Alert.objects.filter(acknowledged_at__isnull=True).select_related("study", "study__claimed_by")
        return Response(AlertSerializer(alerts, many=True).data)


class AlertAcknowledgeApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(request=None, responses=AlertSerializer, summary="Acknowledge an alert")
    def post(self, request, alert_id: int):
        get_object_or_404(Alert, pk=alert_id)
        alert = alert_acknowledge(alert_id=alert_id, user=request.user)
        audit_record(user=request.user, action="alert.acknowledge", study=alert.study, request=request)
        return Response(AlertSerializer(alert).data)


class UrgencyClassListApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(responses=UrgencyClassSerializer(many=True), summary="Urgency classes and turnaround targets")
    def get(self, request):
        return Response(UrgencyClassSerializer(UrgencyClass.objects.order_by("rank"), many=True).data)


class UrgencyClassApi(APIView):
    permission_classes = [IsManager]

    class UrgencyTargetInputSerializer(serializers.Serializer):
        name = serializers.CharField(required=False, max_length=64)
        target_minutes = serializers.IntegerField(required=False, min_value=1, max_value=60 * 24 * 60)
        ceiling_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                                   max_value=60 * 24 * 60,
                                                   help_text="Age ceiling; null clears it (the target applies)")

    @extend_schema(request=UrgencyTargetInputSerializer, responses=UrgencyClassSerializer,
                   summary="Change a class's turnaround target or age ceiling (manager); open studies re-prioritise "
                           "live. Inconsistent targets (urgent shorter than STAT) are refused with 400.")
    def patch(self, request, code: str):
        get_object_or_404(UrgencyClass, code=code)
        data = self.UrgencyTargetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        urgency, warnings = urgency_target_update(code=code, user=request.user, request=request,
                                                  **data.validated_data)
        return Response({**UrgencyClassSerializer(urgency).data, "warnings": warnings})


class AgeingPolicyApi(APIView):
    permission_classes = [ReadsWorklist]

    class AgeingPolicySerializer(serializers.Serializer):
        mode = serializers.ChoiceField(choices=list(AGEING_MODES), required=False)
        score_weight = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
        unscored_closeness = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)

    def get_permissions(self):
        return [IsManager()] if self.request.method == "PATCH" else super().get_permissions()

    @extend_schema(responses=AgeingPolicySerializer, summary="How age moves studies up the worklist")
    def get(self, request):
        return Response(self.AgeingPolicySerializer(order_policy()).data)

    @extend_schema(request=AgeingPolicySerializer, responses=AgeingPolicySerializer,
                   summary="Change the ageing policy (manager, audit-logged); open studies re-prioritise live")
    def patch(self, request):
        data = self.AgeingPolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = ageing_policy_update(user=request.user, request=request, **data.validated_data)
        return Response(self.AgeingPolicySerializer(row.as_policy()).data)


class StudyAssignApi(APIView):
    permission_classes = [IsManager]

    class StudyAssignInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)

    @extend_schema(request=StudyAssignInputSerializer, responses={200: StudySerializer, 409: OpenApiResponse()},
                   summary="Reassign a study to a radiologist (manager)")
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        data = self.StudyAssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reader = User.objects.filter(username=data.validated_data["username"], role=Role.RADIOLOGIST).first()
        if reader is None:
            return Response({"detail": "no such radiologist"}, status=status.HTTP_400_BAD_REQUEST)
        study = study_assign(study_id=study_id, manager=request.user, reader=reader)
        return Response(StudySerializer(study).data)


class MeApi(APIView):
    """The signed-in user's own settings (reading mode)."""

    class MeSerializer(serializers.Serializer):
        username = serializers.CharField(read_only=True)
        role = serializers.CharField(read_only=True)
        reading_mode = serializers.ChoiceField(choices=ReadingMode.choices)

    @extend_schema(responses=MeSerializer, summary="Who am I, and my reading mode")
    def get(self, request):
        return Response(self.MeSerializer(request.user).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer, summary="Change my reading mode")
    def patch(self, request):
        data = self.MeSerializer(request.user, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        request.user.reading_mode = data.validated_data.get("reading_mode", request.user.reading_mode)
        request.user.save(update_fields=["reading_mode"])
        audit_record(user=request.user, action="user.reading_mode", detail=request.user.reading_mode, request=request)
        return Response(self.MeSerializer(request.user).data)


class RadiologistListApi(APIView):
    permission_classes = [ReadsWorklist]

    class RadiologistSerializer(serializers.Serializer):
        username = serializers.CharField()
        name = serializers.CharField(source="get_full_name")

    @extend_schema(responses=RadiologistSerializer(many=True), summary="Active radiologists (for reassignment)")
    def get(self, request):
        readers = User.objects.filter(role=Role.RADIOLOGIST, is_active=True).order_by("last_name", "username")
        return Response(self.RadiologistSerializer(readers, many=True).data)


class IdentityConflictListApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(responses=IdentityConflictSerializer(many=True),
                   summary="Arrivals held for a patient identity conflict (manager; IHE PIR)")
    @audited_read("identity.list")
    def get(self, request):
        conflicts = list(identity_conflicts_open())
        request.audit.detail = f"{len(conflicts)} conflicts"
        return Response(IdentityConflictSerializer(conflicts, many=True).data)


class IdentityResolveApi(APIView):
    permission_classes = [IsManager]

    class IdentityResolveInputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["keep_apart", "same_patient"])
        note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")

    @extend_schema(request=IdentityResolveInputSerializer,
                   responses={200: StudySerializer, 409: OpenApiResponse(description="No open conflict, or the "
                                                                          "archive is not corrected yet")},
                   summary="Resolve an identity conflict: keep the two studies apart, or confirm the same patient "
                           "after a correction in the archive (manager)")
    def post(self, request, study_id: int):
        get_object_or_404(Study, pk=study_id)
        data = self.IdentityResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = study_identity_resolve(study_id=study_id, user=request.user, request=request,
                                       **data.validated_data)
        return Response(StudySerializer(study).data)
