import gc
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

# What start-up built (modules, URL patterns, serialisers' classes) lives as long as the process:
# frozen out of the collector, a full collection no longer walks it (130–600 ms pauses were seen
# in the worklist's slowest requests under load).
gc.collect()
gc.freeze()
