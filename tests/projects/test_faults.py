"""What a customer may read of the platform's text (projects.faults): no traceback, no server path."""

from __future__ import annotations

from django.conf import settings

from projects.faults import FAULT_SENTENCE, customer_text


def test_customer_text_hides_tracebacks_and_server_paths() -> None:
    assert customer_text('Traceback (most recent call last):\n  File "/x.py", line 1\nValueError: x') == FAULT_SENTENCE
    shown = customer_text(f"cannot open {settings.BASE_DIR}/projects/models.py: denied")
    assert str(settings.BASE_DIR) not in shown and "…/models.py: denied" in shown
    assert customer_text("3 tests failed in tests/test_story_001.py") == "3 tests failed in tests/test_story_001.py"
