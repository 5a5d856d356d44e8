"""The public REST API of a company's portal (``/api/v1/``) and the API keys that open it.

Layering: ``api`` is a top-layer app beside ``success``. It may import every app below it
(``tenants``, ``billing``, ``agents``, ``projects``, ``success``); no app imports ``api``, and only
the composition root (``hive/urls_tenant.py``, ``hive/urls_public.py``, settings) names it. API
views reach data the way portal views do — through the apps' access helpers and selectors — and
write only through the apps' services, so the API can never be a shortcut around a portal rule.
"""
