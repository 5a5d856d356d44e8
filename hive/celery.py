"""The Celery application. Tasks live in the apps (``shared_task``) and are found by autodiscovery."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")

app = Celery("hive")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
