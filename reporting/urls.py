from django.urls import path

from reporting import api

urlpatterns = [
    path("studies/<int:study_id>/report/draft/", api.ReportDraftApi.as_view(), name="api-report-draft"),
    path("studies/<int:study_id>/report/history/", api.ReportHistoryApi.as_view(), name="api-report-history"),
    path("studies/<int:study_id>/report/amendment/", api.AmendmentOpenApi.as_view(), name="api-report-amendment"),
    path("radiologists/<str:username>/supervisor/", api.SupervisorApi.as_view(), name="api-radiologist-supervisor"),
    path("studies/<int:study_id>/findings/reader/", api.ReaderFindingsApi.as_view(), name="api-reader-findings"),
    path("studies/<int:study_id>/findings/<str:key>/", api.ReaderFindingApi.as_view(), name="api-reader-finding"),
]
