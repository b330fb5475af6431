"""REST API: a study's prior mammography reports, and the mammography AI's agreement with the reports."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsManager, ReadsWorklist
from priors import selectors
from worklist.audit import audited_read
from worklist.models import Study


class EvidenceSerializer(serializers.Serializer):
    text = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()


class MinedFeatureSerializer(serializers.Serializer):
    kind = serializers.CharField()
    laterality = serializers.CharField(allow_null=True)
    descriptors = serializers.ListField(child=serializers.CharField())
    evidence = EvidenceSerializer()


class PriorReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    study_date = serializers.DateField()
    accession_number = serializers.CharField()
    source = serializers.CharField()
    study_id = serializers.IntegerField(allow_null=True)
    birads = serializers.CharField(allow_blank=True)
    density = serializers.CharField(allow_blank=True)
    laterality = serializers.CharField(allow_blank=True)
    birads_evidence = EvidenceSerializer(source="features.birads_evidence", allow_null=True)
    density_evidence = EvidenceSerializer(source="features.density_evidence", allow_null=True)
    features = MinedFeatureSerializer(source="features.features", many=True)
    negated = MinedFeatureSerializer(source="features.negated", many=True)
    text = serializers.CharField()


class AiResultSerializer(serializers.Serializer):
    model_version = serializers.CharField()
    category = serializers.CharField()
    suspicion = serializers.FloatField(allow_null=True)
    headline = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)
    recall = serializers.SerializerMethodField()

    def get_recall(self, run) -> bool | None:
        return selectors.ai_recall(run)


class StudyPriorsApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(summary="The same patient's earlier mammography reports, mined, and this study's AI result",
                   responses={200: OpenApiResponse(description="{study_id, priors, ai}")})
    @audited_read("study.priors")
    def get(self, request, study_id: int):
        study = get_object_or_404(Study, pk=study_id)
        priors = selectors.study_prior_reports(study=study)
        request.audit.detail = f"{len(priors)} prior reports"
        run = selectors.mammography_ai_run(study=study)
        return Response({
            "study_id": study.pk,
            "priors": PriorReportSerializer(priors, many=True).data,
            "ai": AiResultSerializer(run).data if run else None,
        })


class MammographyAgreementApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(summary="Mammography AI recall against the mined BI-RADS category of the study's report",
                   responses={200: OpenApiResponse(description="{n, table, sensitivity, specificity, agreement}")})
    @audited_read("stats.ai_agreement_mammography")
    def get(self, request):
        return Response(selectors.mammography_ai_agreement())
