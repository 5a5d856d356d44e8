"""The composition root: settings, URL roots, ASGI/WSGI entry points and the Celery app."""

from hive.celery import app as celery_app

__all__ = ["celery_app"]
