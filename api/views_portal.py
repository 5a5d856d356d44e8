"""The owners' page of API keys in the portal (``/settings/api-keys/``): list, create, revoke.

Only an owner of the company (a person with an owner membership; an account manager's staff entry
does not count) sees and manages keys; others get 404 for the page, the way another company's
page does not exist for them. Making a key also needs ``api_key_creation_allowed`` (the
re-authentication hook). The clear key is in the one response that created it, never stored.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.access import api_key_creation_allowed, key_owner_role
from api.forms import ApiKeyForm
from api.keys import ApiKeyError, api_key_create, api_key_revoke
from api.models import ApiKey, Scope
from tenants.access import current_customer
from tenants.models import Role, User
from tenants.reauth import reauth_url


def _owner(request: HttpRequest) -> User:
    if key_owner_role(request, current_customer(request)) != Role.OWNER:
        raise Http404("No such page")
    assert isinstance(request.user, User)
    return request.user


@never_cache
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    user = _owner(request)
    form = ApiKeyForm(request.POST or None)
    created: tuple[ApiKey, str] | None = None
    status = 200
    if request.method == "POST":
        if not api_key_creation_allowed(request):
            messages.info(request, "Confirm it is you before making an API key.")
            return redirect(reauth_url(request))
        elif form.is_valid():
            days = form.expiry_days()
            try:
                created = api_key_create(
                    name=form.cleaned_data["name"],
                    scope=Scope(form.cleaned_data["scope"]),
                    user=user,
                    expires_at=timezone.now() + timedelta(days=days) if days else None,
                )
            except ApiKeyError as exc:
                form.add_error(None, str(exc))
            else:
                form = ApiKeyForm()
        if form.errors and status == 200:
            status = 400
    context = {
        "keys": list(ApiKey.objects.all()),
        "form": form,
        "created": created[0] if created else None,
        "clear_key": created[1] if created else None,
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    return render(request, "api/keys.html", context, status=status)


@require_POST
def api_key_revoke_view(request: HttpRequest, prefix: str) -> HttpResponse:
    user = _owner(request)
    key = ApiKey.objects.filter(prefix=prefix).first()
    if key is None:
        raise Http404("No such key")
    api_key_revoke(key=key, user=user)
    messages.success(request, f"The key “{key.name}” ({key.prefix}…) is revoked; it no longer opens the API.")
    return redirect("api_keys")
