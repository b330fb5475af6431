import gc
import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware chain and the view run as one sync call in the
    request's thread. Every middleware here is sync-capable and every view sync; Django's stock
    handler runs the sync middleware in the request's thread, hops back to the event loop for its
    async inner handler (async_to_sync) and into the thread again for the view (sync_to_async): two
    thread switches per request that bought nothing. An async view still works (Django's sync
    handler runs it with async_to_sync)."""

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application
django_asgi_app = SyncChainASGIHandler()

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
