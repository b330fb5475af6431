"""REST API of the worklist: thin views that validate, call a selector or service, serialise."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsRadiologist, ReadsWorklist
from worklist.models import ReadingState, Study, StudyStatus
from worklist.selectors import worklist_studies
from worklist.serializers import StudyDetailSerializer, StudySerializer
from worklist.services import StudyClaimedByOther, StudyNotClaimable, audit_record, study_claim, study_release


class WorklistApi(APIView):
    permission_classes = [ReadsWorklist]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=StudyStatus.choices, required=False)
        modality = serializers.CharField(required=False, max_length=16)
        urgency = serializers.CharField(required=False, max_length=32)
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
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        studies = worklist_studies(user=request.user, **filters.validated_data)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(studies, request, view=self)
        audit_record(user=request.user, action="worklist.view", detail=f"{len(page)} studies", request=request)
        return paginator.get_paginated_response(StudySerializer(page, many=True).data)


class StudyDetailApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(responses=StudyDetailSerializer, summary="One study with its series and AI results")
    def get(self, request, study_id: int):
        study = get_object_or_404(
            Study.objects.select_related("claimed_by").prefetch_related("series", "analyses"), pk=study_id
        )
        audit_record(user=request.user, action="study.view", study=study, request=request)
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
        try:
            study = study_claim(study_id=study_id, user=request.user)
        except StudyClaimedByOther as exc:
            return Response({"detail": f"Study is being read by {exc}."}, status=status.HTTP_409_CONFLICT)
        except StudyNotClaimable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
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
        try:
            study = study_release(study_id=study_id, user=request.user)
        except StudyClaimedByOther as exc:
            return Response({"detail": f"Study is being read by {exc}."}, status=status.HTTP_409_CONFLICT)
        audit_record(user=request.user, action="study.release", study=study, request=request)
        return Response(StudySerializer(study).data)
