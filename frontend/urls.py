from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import ohif, views

urlpatterns = [
    path("", views.worklist_page, name="worklist"),
    path("studies/<int:study_id>/", views.study_page, name="study"),
    path("login/", auth_views.LoginView.as_view(template_name="frontend/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("ohif/studies/<int:study_id>/", ohif.ohif_study, name="ohif-study"),
    path("ohif/", ohif.ohif_page, name="ohif"),
    path("ohif/<path:rest>", ohif.ohif_page),
]
