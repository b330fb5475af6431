import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from clinician.routing import websocket_urlpatterns as clinician_websockets  # noqa: E402  (clinician app hook)
from config.websocket import SameOriginValidator  # noqa: E402
from worklist.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(SameOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + clinician_websockets))  # + clinician app hook
        )),
    }
)
