"""Included at the site root.

Pages under /clinician/ and /manager/audit/, REST under /api/clinician/, FHIR under /fhir/.
"""

from django.urls import path, re_path

from clinician import api, fhir_api, views

pages = [
    path("clinician/", views.lookup_page, name="clinician-lookup"),
    path("clinician/studies/<int:study_id>/", views.study_page, name="clinician-study"),
    path("clinician/studies/<int:study_id>/key-images/<int:index>.png", views.key_image, name="clinician-key-image"),
    path("clinician/critical-results/<int:critical_id>/acknowledge/", views.critical_acknowledge,
         name="clinician-critical-ack"),
    path("clinician/critical-results/", views.department_critical_page, name="clinician-department-critical"),
    path("clinician/links/", views.links_page, name="clinician-links"),
    path("clinician/links/add/", views.link_add, name="clinician-link-add"),
    path("clinician/links/<int:link_id>/remove/", views.link_remove, name="clinician-link-remove"),
    path("manager/audit/", views.audit_page, name="manager-audit"),
]

rest = [
    path("api/clinician/studies/", api.ClinicianStudyListApi.as_view(), name="api-clinician-studies"),
    path("api/clinician/studies/<int:study_id>/", api.ClinicianStudyApi.as_view(), name="api-clinician-study"),
    path("api/clinician/studies/<int:study_id>/report/v<int:number>.pdf", api.ClinicianReportPdfApi.as_view(),
         name="api-clinician-report-pdf"),
    path("api/clinician/critical-results/", api.CriticalResultListApi.as_view(), name="api-critical-results"),
    path("api/clinician/critical-results/<int:critical_id>/acknowledge/", api.CriticalResultAcknowledgeApi.as_view(),
         name="api-critical-ack"),
    path("api/clinician/links/", api.ReferrerLinkListApi.as_view(), name="api-referrer-links"),
    path("api/clinician/links/<int:link_id>/", api.ReferrerLinkApi.as_view(), name="api-referrer-link"),
    path("api/clinician/links/suggestions/", api.ReferrerSuggestionsApi.as_view(), name="api-referrer-suggestions"),
    path("api/clinician/referrers/", api.ReferrersSeenApi.as_view(), name="api-referrers-seen"),
]

fhir = [
    path("fhir/metadata", fhir_api.CapabilityStatementView.as_view(), name="fhir-metadata"),
    path("fhir/ImagingStudy", fhir_api.ImagingStudySearch.as_view(), name="fhir-imagingstudy-search"),
    path("fhir/ImagingStudy/<str:resource_id>", fhir_api.ImagingStudyRead.as_view(), name="fhir-imagingstudy"),
    path("fhir/DiagnosticReport", fhir_api.DiagnosticReportSearch.as_view(), name="fhir-diagnosticreport-search"),
    path("fhir/DiagnosticReport/<str:resource_id>", fhir_api.DiagnosticReportRead.as_view(),
         name="fhir-diagnosticreport"),
    re_path(r"^fhir/(?P<resource_type>[A-Za-z]+)(?:/(?P<rest>.*))?$", fhir_api.UnknownResource.as_view()),
]

urlpatterns = pages + rest + fhir
