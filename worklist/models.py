from django.conf import settings
from django.db import models


class StudyStatus(models.TextChoices):
    """Where a study is in the analysis pipeline (reading has its own state)."""

    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued for AI"
    ANALYSING = "analysing", "AI analysing"
    ANALYSED = "analysed", "AI analysed"
    AI_FAILED = "ai_failed", "AI failed"
    NO_AI = "no_ai", "No AI for this study type"


class ReadingState(models.TextChoices):
    UNREAD = "unread", "Unread"
    IN_PROGRESS = "in_progress", "Being read"
    REPORTED = "reported", "Reported"


class IdentityState(models.TextChoices):
    """Patient identity of an arrival (IHE PIR): a UID reused for another patient is never merged."""

    OK = "", "Consistent"
    CONFLICT = "conflict", "Identity conflict: held for a manager"
    KEPT_APART = "kept_apart", "Kept apart by a manager"
    MERGED = "merged", "Corrected in the archive and merged into the other study"


# Held (conflict) and merged-away arrivals are neither read nor shown to clinicians (worklist.identity).
READABLE_IDENTITY = (IdentityState.OK, IdentityState.KEPT_APART)


class StudyQuerySet(models.QuerySet):
    """Writes that send no post_save: each still bumps the worklist's version (worklist.page_cache)."""

    def update(self, **kwargs):
        from worklist.page_cache import worklist_version_bump_on_commit

        rows = super().update(**kwargs)
        worklist_version_bump_on_commit(self.db)
        return rows

    update.alters_data = True

    def bulk_create(self, *args, **kwargs):
        from worklist.page_cache import worklist_version_bump_on_commit

        created = super().bulk_create(*args, **kwargs)
        worklist_version_bump_on_commit(self.db)
        return created

    bulk_create.alters_data = True

    def bulk_update(self, *args, **kwargs):
        from worklist.page_cache import worklist_version_bump_on_commit

        rows = super().bulk_update(*args, **kwargs)
        worklist_version_bump_on_commit(self.db)
        return rows

    bulk_update.alters_data = True


class Study(models.Model):
    """One imaging study as the worklist knows it; the pixels stay in Orthanc.

    Identified as Orthanc identifies it: PatientID + StudyInstanceUID (``orthanc_id`` is Orthanc's
    hash of the two), never by the StudyInstanceUID alone.
    """

    study_instance_uid = models.CharField(max_length=64, db_index=True)
    orthanc_id = models.CharField(max_length=64, unique=True)

    patient_id = models.CharField(max_length=64, blank=True)
    patient_name = models.CharField(max_length=200, blank=True)
    patient_birth_date = models.DateField(null=True, blank=True)
    patient_sex = models.CharField(max_length=16, blank=True)

    accession_number = models.CharField(max_length=64, blank=True)
    modality = models.CharField(max_length=16, blank=True, help_text="Main modality of the study")
    modalities = models.CharField(max_length=64, blank=True, help_text="All modalities, backslash separated")
    body_part = models.CharField(max_length=64, blank=True)
    study_description = models.CharField(max_length=200, blank=True)
    referring_physician = models.CharField(max_length=200, blank=True)
    requested_priority = models.CharField(max_length=16, blank=True)
    patient_location = models.CharField(max_length=200, blank=True)

    study_datetime = models.DateTimeField(null=True, blank=True, help_text="Acquisition (StudyDate/Time)")
    ctdi_vol_mgy = models.FloatField(null=True, blank=True, help_text="CT: CTDIvol (0018,9345) of the first image")
    dlp_mgy_cm = models.FloatField(
        null=True, blank=True, help_text="CT: estimated DLP = CTDIvol x scanned length (images x slice thickness)"
    )
    arrived_at = models.DateTimeField(help_text="When the first image reached the archive")
    ingested_at = models.DateTimeField(auto_now_add=True)
    series_count = models.PositiveIntegerField(default=0)
    instance_count = models.PositiveIntegerField(default=0)

    status = models.CharField(max_length=16, choices=StudyStatus.choices, default=StudyStatus.RECEIVED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)
    # Analysis bookkeeping: each request bumps the generation; a task analyses one generation
    # once, so a redelivered or swept task never duplicates finished work.
    analysis_generation = models.PositiveIntegerField(default=0)
    analysed_generation = models.PositiveIntegerField(default=0)
    analysis_attempts = models.PositiveSmallIntegerField(default=0)
    ai_headline = models.CharField(max_length=300, blank=True)
    ai_suspicion = models.FloatField(null=True, blank=True)
    # Ingested (and analysed) as soon as its header counts were met, before Orthanc called it stable
    # (worklist.ingest.complete_studies_ingest): images may still come, so the AI result may rest on
    # part of the study. Cleared by the StableStudy ingest (or pending_studies_settle's).
    images_arriving = models.BooleanField(default=False)

    urgency_code = models.CharField(max_length=32, blank=True)
    urgency_name = models.CharField(max_length=64, blank=True)
    urgency_rank = models.PositiveSmallIntegerField(default=99)
    due_at = models.DateTimeField(null=True, blank=True)
    # Worklist position (triage.priority.ORDER_FIELDS): tier 0 = promoted past its age ceiling
    # (ageing design "promote"), then order_at = the earlier of due time and age ceiling.
    order_tier = models.PositiveSmallIntegerField(default=1)
    order_at = models.DateTimeField(null=True, blank=True)
    priority_reason = models.CharField(max_length=300, blank=True)
    escalation = models.CharField(max_length=16, default="none")
    reading_queue = models.CharField(
        max_length=24, default="general", help_text="general | screening | diagnostic_workup (triage.rules)"
    )

    identity_state = models.CharField(max_length=16, choices=IdentityState.choices, default=IdentityState.OK,
                                      blank=True)
    identity_reason = models.CharField(max_length=300, blank=True)
    identity_conflict_with = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                               related_name="identity_conflicts")

    reading_state = models.CharField(max_length=16, choices=ReadingState.choices, default=ReadingState.UNREAD)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_studies"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_touched_at = models.DateTimeField(null=True, blank=True)

    first_read_done_at = models.DateTimeField(null=True, blank=True, help_text="Second-reader mode: unaided read")
    reported_at = models.DateTimeField(null=True, blank=True, help_text="First signature: ends the turnaround")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_studies"
    )

    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = StudyQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["reading_state", "due_at"], name="study_worklist_order"),
            # The open worklist is "not reported", which the index above cannot serve: with 50,000
            # studies PostgreSQL scanned them all for every page (25 ms, and again for the count).
            models.Index(fields=["due_at"], condition=~models.Q(reading_state="reported"), name="study_open_by_due"),
            models.Index(fields=["order_tier", "order_at"], condition=~models.Q(reading_state="reported"),
                         name="study_open_by_order"),
            models.Index(fields=["status", "status_changed_at"], name="study_pipeline_state"),
            models.Index(fields=["patient_id"], name="study_patient"),
            models.Index(fields=["accession_number"], name="study_accession"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["patient_id", "study_instance_uid"], name="study_patient_and_uid"),
        ]

    def __str__(self) -> str:
        return f"Study {self.pk} {self.modality} {self.accession_number}"

    @property
    def images_arriving_note(self) -> str:
        """The reader's words while the study may still be receiving images; "" once it is complete.

        The one wording for the worklist row, the reading page's banner, the draft and the signing guard."""
        if not self.images_arriving:
            return ""
        count = self.instance_count
        return (f"Images may still be arriving: the AI has read {count} image{'' if count == 1 else 's'} so far; "
                "the result can change when the study is complete.")

    @property
    def title(self) -> str:
        """Modality and description for headings, without "CT CT Chest" when the description names it."""
        description = (self.study_description or self.body_part or "").strip()
        if description.upper().split(" ")[:1] == [self.modality.upper()]:
            return description
        return " ".join(part for part in (self.modality, description) if part)


class Series(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="series")
    # Not unique on its own: a SeriesInstanceUID reused by another study is an identity conflict
    # to show, not a row to take over (orthanc_id, Orthanc's hash of patient + study + series, is).
    series_instance_uid = models.CharField(max_length=64, db_index=True)
    orthanc_id = models.CharField(max_length=64, unique=True)
    modality = models.CharField(max_length=16, blank=True)
    series_number = models.IntegerField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    body_part = models.CharField(max_length=64, blank=True)
    instance_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["series_number", "id"]
        verbose_name_plural = "series"
        constraints = [models.UniqueConstraint(fields=["study", "series_instance_uid"], name="series_uid_in_study")]

    def __str__(self) -> str:
        return f"Series {self.series_number} {self.modality} of study {self.study_id}"


class Order(models.Model):
    """An imaging order from the RIS (HL7 v2), joined to its study by accession number."""

    accession_number = models.CharField(max_length=64, unique=True)
    order_control = models.CharField(max_length=4, blank=True, help_text="HL7 ORC-1: NW, XO, CA…")
    priority = models.CharField(max_length=8, blank=True, help_text="HL7 table 0027: S, A, R, P, T…")
    patient_id = models.CharField(max_length=64, blank=True)
    patient_class = models.CharField(max_length=4, blank=True, help_text="HL7 PV1-2: E, I, O…")
    patient_location = models.CharField(max_length=200, blank=True)
    referring_physician = models.CharField(max_length=200, blank=True)
    procedure = models.CharField(max_length=200, blank=True)
    message_control_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Order {self.accession_number} ({self.priority or 'no priority'})"


class Alert(models.Model):
    """Something a person must act on, pushed live and kept until acknowledged."""

    class Kind(models.TextChoices):
        AI_CRITICAL_UNOPENED = "ai_critical_unopened", "AI-critical study not opened within target"
        IDENTITY_CONFLICT = "identity_conflict", "Patient identity conflict: a UID already belongs to another patient"
        ORDER_PATIENT_MISMATCH = "order_patient_mismatch", "HL7 order refused: it names another patient"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="alerts")
    message = models.CharField(max_length=300)
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "study"], name="one_alert_per_kind_and_study")]
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: study {self.study_id}"


class IngestCursor(models.Model):
    """Position in Orthanc's /changes feed; advanced only after a study is saved."""

    name = models.CharField(max_length=32, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at change {self.last_seq}"


class PendingStudy(models.Model):
    """A study Orthanc announced (NewStudy) and has not yet called stable (StableStudy).

    Orthanc keeps its stability timers in memory: a study still receiving images when Orthanc
    stops never gets its StableStudy change. Pending rows let the follower ask for such a study
    itself once it has been quiet long enough.
    """

    orthanc_id = models.CharField(max_length=64, primary_key=True)
    announced_at = models.DateTimeField(auto_now_add=True)
    # Images the study held when it was ingested early, complete by its header counts
    # (ingest.complete_studies_ingest); null until then. The row stays until StableStudy.
    early_images = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pending {self.orthanc_id}"


class AuditEvent(models.Model):
    """Who looked at or changed what, when and from where."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    study = models.ForeignKey(Study, null=True, blank=True, on_delete=models.SET_NULL)
    detail = models.CharField(max_length=300, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.user_id} {self.action}"
