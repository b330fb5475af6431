from django.urls import path

from reporting import api

urlpatterns = [
    path("studies/<int:study_id>/findings/", api.FindingsApi.as_view(), name="api-findings"),
    path("studies/<int:study_id>/findings/<str:key>/review/", api.FindingReviewApi.as_view(),
         name="api-finding-review"),
    path("studies/<int:study_id>/first-read-done/", api.FirstReadDoneApi.as_view(), name="api-first-read"),
    path("studies/<int:study_id>/report/", api.ReportApi.as_view(), name="api-report"),
    path("studies/<int:study_id>/report/sign/", api.ReportSignApi.as_view(), name="api-report-sign"),
    path("studies/<int:study_id>/report/preview/", api.ReportPreviewApi.as_view(), name="api-report-preview"),
    path("studies/<int:study_id>/images-viewed/", api.ImagesViewedApi.as_view(), name="api-images-viewed"),
    path("studies/<int:study_id>/report/amend/", api.ReportAmendApi.as_view(), name="api-report-amend"),
    path("studies/<int:study_id>/report/v<int:number>.pdf", api.ReportPdfApi.as_view(),
         name="api-report-pdf"),
    path("studies/<int:study_id>/report/draft/", api.ReportDraftApi.as_view(), name="api-report-draft"),
    path("studies/<int:study_id>/report/history/", api.ReportHistoryApi.as_view(), name="api-report-history"),
    path("studies/<int:study_id>/report/amendment/", api.AmendmentOpenApi.as_view(), name="api-report-amendment"),
    path("radiologists/<str:username>/supervisor/", api.SupervisorApi.as_view(), name="api-radiologist-supervisor"),
    path("studies/<int:study_id>/findings/reader/", api.ReaderFindingsApi.as_view(), name="api-reader-findings"),
    path("studies/<int:study_id>/findings/<str:key>/", api.ReaderFindingApi.as_view(), name="api-reader-finding"),
]
