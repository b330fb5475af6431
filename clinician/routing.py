from django.urls import path

from clinician.consumers import ClinicianConsumer

websocket_urlpatterns = [path("ws/clinician/", ClinicianConsumer.as_asgi())]
