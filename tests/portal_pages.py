"""Every page of a customer portal, with real objects of that customer behind each id.

The cross-tenant test walks this list; a test asserts that it names every URL pattern of the
portal, so a new page cannot be added without its cross-tenant check.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.urls import reverse
from django_tenants.utils import schema_context

from api.keys import api_key_create
from api.models import Scope
from billing.models import Charge, PaymentMethod, StripeCustomer
from projects.models import Engagement, Phase, Project, Quote, ScopeChange, Service, Story, Task
from success.models import DailySummary, Notification, NotificationKind, Survey, WeeklyBriefing
from tenants.models import Invitation, Membership, Role
from tests.world import World

URLCONF = "hive.urls_tenant"


def portal_paths(world: World, slug: str) -> dict[str, str]:
    customer = world.customers[slug]
    member = Membership.objects.filter(customer=customer, role=Role.MEMBER).first()
    assert member is not None
    invitation = Invitation.objects.create(customer=customer, email=f"new@{slug}.test", role=Role.VIEWER)
    with schema_context(slug):
        mvp = Project.objects.create(name=f"{slug} secret MVP", service=Service.MVP)
        story = Story.objects.create(project=mvp, title="Secret", as_a="user", i_want="secrets")
        quote = Quote.objects.create(project=mvp, number=1, snapshot={"service": "mvp"}, price_cents=1)
        modernization = Project.objects.create(name=f"{slug} modernization", service=Service.MODERNIZATION)
        augmentation = Project.objects.create(name=f"{slug} augmentation", service=Service.AUGMENTATION)
        Engagement.objects.create(project=augmentation, kind=Engagement.Kind.SPRINT)
        survey = Survey.objects.create(project=mvp, occasion=Survey.Occasion.DELIVERY)
        summary = DailySummary.objects.create(project=mvp, day=date(2030, 1, 1), text=f"{slug} secret summary")
        briefing, _ = WeeklyBriefing.objects.get_or_create(week_start=date(2030, 1, 6), defaults={"pdf": b"%PDF-1.4"})
        phase = Phase.objects.create(project=mvp, position=1, key="review", name="Stakeholder review")
        task = Task.objects.create(
            project=mvp,
            phase=phase,
            key="approve_plan",
            title="Secret approval",
            kind=Task.Kind.APPROVAL,
            status=Task.Status.AWAITING_APPROVAL,
        )
        change = ScopeChange.objects.create(project=mvp, story=story, title="Secret", reason="secret reason")
        owner = Membership.objects.get(customer=customer, role=Role.OWNER).user
        notification = Notification.objects.create(
            user=owner,
            email=owner.email,
            kind=NotificationKind.APPROVAL_NEEDED,
            project=mvp,
            title=f"{slug} secret notification",
            link=f"http://{slug}.example.test/projects/{mvp.pk}/",
            action="Review",
            key=f"pages:{uuid.uuid4().hex}",
            delivery="immediately",
        )
        api_key, _ = api_key_create(name=f"{slug} secret key", scope=Scope.READ, user=owner, expires_at=None)
    stripe_customer, _ = StripeCustomer.objects.get_or_create(
        customer=customer, defaults={"stripe_id": f"cus_pages_{slug}_{uuid.uuid4().hex[:8]}"}
    )
    card = PaymentMethod.objects.create(
        stripe_customer=stripe_customer, stripe_id=f"pm_pages_{uuid.uuid4().hex[:12]}", brand="visa", last4="4242"
    )
    charge = Charge.objects.create(
        customer=customer,
        schema_name=slug,
        project_id=mvp.pk,
        project_name=mvp.name,
        service="mvp",
        milestone=f"pages-{uuid.uuid4().hex[:8]}",
        description=f"{slug} secret charge",
        amount_cents=100,
        status=Charge.Status.SUCCEEDED,
    )
    args: dict[str, list[int | str]] = {
        "portal_home": [],
        "members": [],
        "member_role": [member.pk],
        "member_remove": [member.pk],
        "invitation_revoke": [invitation.pk],
        "audit": [],
        "audit_export": [],
        "company_two_factor": [],
        "project_new": [],
        "project_detail": [mvp.pk],
        "requirements_submit": [mvp.pk],
        "story_add": [mvp.pk],
        "story_edit": [mvp.pk, story.pk],
        "story_drop": [mvp.pk, story.pk],
        "legacy_submit": [modernization.pk],
        "engagement_submit": [augmentation.pk],
        "project_repository": [augmentation.pk],
        "project_pay": [mvp.pk],
        "deliverable_bundle": [mvp.pk],
        "project_preview_open": [mvp.pk],
        "project_preview_start": [mvp.pk],
        "deliverable_zip": [mvp.pk],
        "task_approve": [mvp.pk, task.pk],
        "task_control": [mvp.pk, task.pk, "hold"],
        "task_drop": [mvp.pk, task.pk],
        "delivery_story_drop": [mvp.pk, story.pk],
        "delivery_story_llm": [mvp.pk, story.pk],
        "delivery_story_correct": [mvp.pk, story.pk],
        "scope_change_consent": [mvp.pk, change.pk],
        "criterion_waive": [mvp.pk, story.pk, 0],
        "criterion_evidence": [mvp.pk, story.pk, 0],
        "project_control": [mvp.pk, "cancel"],
        "quote_create": [mvp.pk],
        "quote_detail": [mvp.pk, quote.number],
        "quote_accept": [mvp.pk, quote.number],
        "billing_home": [],
        "billing_card_add": [],
        "billing_setup_begin": [],
        "billing_setup_finish": [],
        "billing_card_default": [card.pk],
        "billing_card_remove": [card.pk],
        "billing_receipt": [charge.pk],
        "billing_charge_pay": [charge.pk],
        "project_dashboard": [mvp.pk],
        "project_dashboard_state": [mvp.pk],
        "project_success": [mvp.pk],
        "project_plan": [mvp.pk],
        "decision_page": [mvp.pk, task.pk],
        "decision_approve": [mvp.pk, task.pk],
        "project_history": [mvp.pk],
        "task_page": [mvp.pk, task.pk],
        "story_decide": [mvp.pk, story.pk],
        "survey_answer": [mvp.pk, survey.pk],
        "guarantee_claim": [mvp.pk],
        "reports": [],
        "report_preferences": [],
        "daily_summary": [summary.pk],
        "weekly_briefing": [briefing.pk],
        "weekly_briefing_now": [],
        "daily_summary_now": [mvp.pk],
        "notification_list": [],
        "notification_open": [notification.pk],
        "notification_read_all": [],
        "notification_preferences": [],
        "api_keys": [],
        "api_key_revoke": [api_key.prefix],
    }
    return {name: reverse(name, urlconf=URLCONF, args=values) for name, values in args.items()}
