"""Absolute links for emails sent without a request (beat tasks, signal receivers), built from
``HIVE_SITE_URL``: the public site as is, a customer's portal with its slug before the host."""

from __future__ import annotations

from django.conf import settings

from tenants.links import portal_link


def admin_url(path: str) -> str:
    return settings.HIVE_SITE_URL.rstrip("/") + path


def portal_url(schema_name: str, path: str) -> str:
    return portal_link(schema_name, path)
