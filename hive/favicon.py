"""``/favicon.ico`` on every host. Pages of the portal name their icon (``base.html``); browsers
still ask for ``/favicon.ico`` on pages that name none (the admin, plain-text and error
responses), which answered 404. It redirects to the one icon in ``static/``."""

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_safe


@require_safe
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static("favicon.svg"))
