from datetime import date

from rest_framework import serializers

from inference.models import AnalysisRun
from triage.models import UrgencyClass
from worklist.models import Alert, Series, Study


def age_in_years(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def full_name(user) -> str | None:
    return (user.get_full_name() or user.username) if user is not None else None


class StudySerializer(serializers.ModelSerializer):
    """One worklist row; the websocket pushes exactly this shape."""

    claimed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # People are shown by their full name; the username stays for comparisons ("mine").
    claimed_by_name = serializers.SerializerMethodField()
    patient_age = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = [
            "id", "study_instance_uid", "accession_number", "claimed_by_name",
            "patient_id", "patient_name", "patient_birth_date", "patient_sex", "patient_age",
            "modality", "modalities", "body_part", "study_description", "referring_physician",
            "requested_priority", "patient_location", "study_datetime", "arrived_at",
            "series_count", "instance_count", "images_arriving", "images_arriving_note",
            "status", "status_reason", "ai_headline", "ai_suspicion",
            "urgency_code", "urgency_name", "urgency_rank", "due_at", "order_tier", "order_at", "priority_reason",
            "escalation", "reading_queue", "reading_state", "claimed_by", "claimed_at", "updated_at",
            "identity_state", "identity_reason",
        ]
        read_only_fields = fields

    def get_claimed_by_name(self, study: Study) -> str | None:
        return full_name(study.claimed_by)

    def get_patient_age(self, study: Study) -> int | None:
        on = (study.study_datetime or study.arrived_at).date()
        return age_in_years(study.patient_birth_date, on)


class SeriesSerializer(serializers.ModelSerializer):
    class Meta:
        model = Series
        fields = ["id", "series_instance_uid", "modality", "series_number", "description", "body_part",
                  "instance_count"]
        read_only_fields = fields


class AnalysisRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnalysisRun
        fields = ["model_name", "model_version", "status", "started_at", "finished_at", "error", "suspicion",
                  "category", "headline", "result", "inference_seconds"]
        read_only_fields = fields


class StudyDetailSerializer(StudySerializer):
    series = SeriesSerializer(many=True, read_only=True)
    analyses = AnalysisRunSerializer(many=True, read_only=True)

    class Meta(StudySerializer.Meta):
        fields = StudySerializer.Meta.fields + ["series", "analyses"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    study = StudySerializer(read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    acknowledged_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = ["id", "kind", "message", "raised_at", "acknowledged_by", "acknowledged_by_name", "acknowledged_at",
                  "study"]
        read_only_fields = fields

    def get_acknowledged_by_name(self, alert: Alert) -> str | None:
        return full_name(alert.acknowledged_by)


class UrgencyClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = UrgencyClass
        fields = ["code", "name", "rank", "target_minutes", "ceiling_minutes", "description", "updated_at"]
        read_only_fields = ["code", "rank", "description", "updated_at"]


class IdentityConflictSerializer(serializers.ModelSerializer):
    """A held arrival and the study whose UID it reused (worklist.identity)."""

    conflict_with = StudySerializer(source="identity_conflict_with", read_only=True)

    class Meta:
        model = Study
        fields = ["id", "patient_id", "patient_name", "study_instance_uid", "accession_number", "arrived_at",
                  "identity_state", "identity_reason", "conflict_with"]
        read_only_fields = fields
