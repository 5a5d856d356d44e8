"""What a customer may read of the platform's text (projects.delivery.faults): no traceback, no server path."""

from __future__ import annotations

from django.conf import settings

from projects.delivery.faults import FAULT_SENTENCE, customer_text


def test_customer_text_hides_tracebacks_and_server_paths() -> None:
    assert customer_text('Traceback (most recent call last):\n  File "/x.py", line 1\nValueError: x') == FAULT_SENTENCE
    shown = customer_text(f"cannot open {settings.BASE_DIR}/projects/models.py: denied")
    assert str(settings.BASE_DIR) not in shown and "…/models.py: denied" in shown
    assert customer_text("3 tests failed in tests/test_story_001.py") == "3 tests failed in tests/test_story_001.py"
    assert customer_text("Show the /home page") == "Show the /home page"  # a word, not a server path
    assert customer_text("wrote /tmp/hive-x/app/models.py") == "wrote …/models.py"


def test_a_step_that_did_nothing_says_skipped_and_what_it_leaves_open() -> None:
    from projects.delivery.faults import skipped_words

    data = {"skipped": {"reason": "no production cluster is configured", "leaves_open": "production hosting"}}
    assert skipped_words(data) == (
        "Skipped — not applicable: no production cluster is configured; still open: production hosting"
    )
    assert skipped_words({"release": "release-1"}) == "" and skipped_words(None) == ""
