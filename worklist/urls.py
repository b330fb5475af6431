from django.urls import path

from worklist import api

urlpatterns = [
    path("worklist/", api.WorklistApi.as_view(), name="api-worklist"),
    path("studies/<int:study_id>/", api.StudyDetailApi.as_view(), name="api-study"),
    path("studies/<int:study_id>/claim/", api.StudyClaimApi.as_view(), name="api-study-claim"),
    path("studies/<int:study_id>/release/", api.StudyReleaseApi.as_view(), name="api-study-release"),
]
