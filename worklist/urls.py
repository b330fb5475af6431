from django.urls import include, path

from worklist import api

urlpatterns = [
    path("", include("worklist.imaging_urls")),
    path("worklist/", api.WorklistApi.as_view(), name="api-worklist"),
    path("studies/<int:study_id>/", api.StudyDetailApi.as_view(), name="api-study"),
    path("studies/<int:study_id>/claim/", api.StudyClaimApi.as_view(), name="api-study-claim"),
    path("studies/<int:study_id>/release/", api.StudyReleaseApi.as_view(), name="api-study-release"),
    path("studies/<int:study_id>/assign/", api.StudyAssignApi.as_view(), name="api-study-assign"),
    path("studies/<int:study_id>/identity/resolve/", api.IdentityResolveApi.as_view(), name="api-identity-resolve"),
    path("identity-conflicts/", api.IdentityConflictListApi.as_view(), name="api-identity-conflicts"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("radiologists/", api.RadiologistListApi.as_view(), name="api-radiologists"),
    path("alerts/", api.AlertListApi.as_view(), name="api-alerts"),
    path("alerts/<int:alert_id>/acknowledge/", api.AlertAcknowledgeApi.as_view(), name="api-alert-ack"),
    path("urgency-classes/", api.UrgencyClassListApi.as_view(), name="api-urgency-classes"),
    path("urgency-classes/<slug:code>/", api.UrgencyClassApi.as_view(), name="api-urgency-class"),
    path("ageing-policy/", api.AgeingPolicyApi.as_view(), name="api-ageing-policy"),
    path("orders/hl7/", api.Hl7OrderApi.as_view(), name="api-orders-hl7"),
]
