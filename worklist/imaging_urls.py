"""The viewer's routes, included under /api/ by worklist.urls."""

from django.urls import path

from worklist import imaging_api

urlpatterns = [
    path("studies/<int:study_id>/series/<int:series_id>/geometry/", imaging_api.SeriesGeometryApi.as_view(),
         name="api-series-geometry"),
    path("studies/<int:study_id>/series/<int:series_id>/pixels/", imaging_api.SeriesPixelsApi.as_view(),
         name="api-series-pixels"),
    path("studies/<int:study_id>/series/<int:series_id>/overlays/", imaging_api.SeriesOverlaysApi.as_view(),
         name="api-series-overlays"),
]
