"""ASGI entry point: preview hosts to the preview gateway; HTTP through Django; websockets through
the tenant middleware.

``PreviewGateway`` comes first: every request for a host under ``HIVE_PREVIEW_DOMAIN`` is a
customer preview (projects.delivery.preview_gateway) and never reaches Django's tenant routing; every other
host passes through it untouched.

A websocket handshake passes ``TenantWebsocketMiddleware`` (same-origin check, Host → customer
and schema in the scope), then channels' cookie/session/auth stack (the portal's session cookie),
then the portal's websocket routes; consumers check membership themselves.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")

django_asgi_app = get_asgi_application()

# These need the app registry loaded.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from projects.delivery.preview_gateway import PreviewGateway  # noqa: E402
from projects.scoping.uploads import RequestBodyLimit  # noqa: E402
from success.routing import websocket_urlpatterns  # noqa: E402
from tenants.websockets import TenantWebsocketMiddleware  # noqa: E402

application = PreviewGateway(
    ProtocolTypeRouter(
        {
            # Django reads a whole body to a temporary file before any view runs: over-cap bodies
            # are refused at the door instead (projects.scoping.uploads).
            "http": RequestBodyLimit(django_asgi_app),
            "websocket": TenantWebsocketMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
