"""ASGI entry point: HTTP through Django; websockets are routed here as the apps add consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs the app registry loaded)

application = ProtocolTypeRouter({"http": django_asgi_app})
