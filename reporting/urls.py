from django.urls import path

from reporting import api

urlpatterns = [
    path("studies/<int:study_id>/report/draft/", api.ReportDraftApi.as_view(), name="api-report-draft"),
    path("studies/<int:study_id>/report/history/", api.ReportHistoryApi.as_view(), name="api-report-history"),
]
