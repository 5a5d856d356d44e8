"""Sending the portal's emails: each one a subject/text/html template triple under
``templates/emails/``, sent through Django's configured mail backend after the transaction commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string


def send_templated_email(name: str, to: list[str], context: dict[str, object]) -> None:
    """Render ``emails/<name>_subject.txt``, ``_body.txt`` and ``_body.html`` and send on commit."""
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)

    def send() -> None:
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
        message.attach_alternative(html, "text/html")
        message.send()

    transaction.on_commit(send)
