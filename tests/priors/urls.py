from django.urls import include, path

from config.urls import urlpatterns as project_urls

urlpatterns = [path("api/", include("priors.urls")), *project_urls]
