"""Sending the portal's emails: each one a subject/text/html template triple under
``templates/emails/``, sent through Django's configured mail backend after the transaction commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import Context
from django.template.loader import get_template, render_to_string


def _plain_text(template_name: str, context: dict[str, object]) -> str:
    """A plain-text template rendered without HTML escaping: a project named ``A & "B"`` reads as
    that in a subject line, not as ``A &amp; &quot;B&quot;``."""
    template = get_template(template_name).template  # type: ignore[attr-defined]
    rendered: str = template.render(Context(context, autoescape=False))
    return rendered


def send_templated_email(name: str, to: list[str], context: dict[str, object]) -> None:
    """Render ``emails/<name>_subject.txt``, ``_body.txt`` and ``_body.html`` and send on commit."""
    subject = " ".join(_plain_text(f"emails/{name}_subject.txt", context).split())
    text = _plain_text(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)

    def send() -> None:
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
        message.attach_alternative(html, "text/html")
        message.send()

    transaction.on_commit(send)
