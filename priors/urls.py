from django.urls import path

from priors import api

urlpatterns = [
    path("studies/<int:study_id>/priors/", api.StudyPriorsApi.as_view(), name="api-study-priors"),
    path("dashboard/ai-agreement/mammography/", api.MammographyAgreementApi.as_view(),
         name="api-ai-agreement-mammography"),
]
