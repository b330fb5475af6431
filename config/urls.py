from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import ApiTokenObtain

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("worklist.urls")),
    path("api/", include("reporting.urls")),
    path("api/", include("priors.urls")),
    path("", include("dashboard.urls")),
    path("", include("clinician.urls")),
    path("dicom-web/", include("archive.dicomweb_urls")),
    path("api/auth/token/", ApiTokenObtain.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("frontend.urls")),
]
