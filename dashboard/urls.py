from django.urls import path

from dashboard import api, views

urlpatterns = [
    path("manager/", views.overview_page, name="manager-overview"),
    path("manager/ai/", views.ai_page, name="manager-ai"),
    path("manager/capacity/", views.capacity_page, name="manager-capacity"),
    path("manager/dose/", views.dose_page, name="manager-dose"),
    path("manager/targets/", views.targets_page, name="manager-targets"),
    path("manager/identity/", views.identity_page, name="manager-identity"),
    path("api/stats/backlog/", api.BacklogApi.as_view(), name="stats-backlog"),
    path("api/stats/turnaround/", api.TurnaroundApi.as_view(), name="stats-turnaround"),
    path("api/stats/breaches/", api.BreachesApi.as_view(), name="stats-breaches"),
    path("api/stats/volume/", api.VolumeApi.as_view(), name="stats-volume"),
    path("api/stats/workload/", api.WorkloadApi.as_view(), name="stats-workload"),
    path("api/stats/ai/", api.AiPerformanceApi.as_view(), name="stats-ai"),
    path("api/stats/ai/agreement/", api.AiAgreementApi.as_view(), name="stats-ai-agreement"),
    path("api/stats/dose/", api.DoseApi.as_view(), name="stats-dose"),
    path("api/stats/dose/outliers/", api.DoseOutliersApi.as_view(), name="stats-dose-outliers"),
    path("api/stats/dose/reference-levels/", api.DoseReferenceApi.as_view(), name="stats-dose-references"),
    path("api/stats/capacity/inputs/", api.CapacityInputsApi.as_view(), name="stats-capacity-inputs"),
    path("api/stats/capacity/", api.CapacityApi.as_view(), name="stats-capacity"),
    path("api/stats/target-changes/", api.TargetChangesApi.as_view(), name="stats-target-changes"),
    path("api/stats/export/studies.csv", api.StudiesCsvApi.as_view(), name="stats-export-studies"),
]
