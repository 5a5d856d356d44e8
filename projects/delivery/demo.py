"""The demo project of ``make run``: an MVP the workers carry through every phase while the
demo customer watches.

``demo_project_ensure`` creates it once in the demo tenant (its stories analysed from
``DEMO_REQUIREMENTS`` by the real requirements analyser) and starts its workflow without a
payment — it is a demonstration, nobody is charged. With ``HIVE_DEMO_AUTO_APPROVE`` on (``make
run`` turns it on), ``demo_approvals`` grants this project's approvals in the customer's place,
recorded as events by ``demo``: the plan at once, the final acceptance only after
``HIVE_DEMO_ACCEPT_AFTER_SECONDS`` so that the preview stays up long enough to be opened (a
finished project's preview stops). Approvals of every other project wait for a person.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from projects.delivery.controls import task_approve
from projects.delivery.orchestration import WorkflowError
from projects.delivery.planning import project_start
from projects.delivery.workflow import ACCEPT
from projects.models import Project, Service, Task, Workflow
from projects.scoping import intake
from tenants.models import Customer, User

DEMO_SCHEMA = "demo"
DEMO_PROJECT = "Demo: Corner Shop"
DEMO_ACTOR = "demo"
DEMO_REQUIREMENTS = """# Corner Shop

- As a visitor, I want to sign up with my email and a password, so that I can use the shop.
- As a shop owner, I want to add products with a name, a price and a description, so that buyers see them.
- As a shop owner, I want to track products with a stock count, so that I reorder in time.
- As a clerk, I want to manage customers with an email and a phone, so that I can reach them.
- As a buyer, I want to place orders with a quantity and a due date, so that I get my goods.
- As a buyer, I want to record suppliers with an address, so that I know where goods come from.
- As an accountant, I want to create invoices with an amount and a paid flag, so that I track payments.
- As a buyer, I want to write reviews with a rating and a comment, so that others can choose.
- As a marketer, I want to schedule promotions with a start date, so that sales go up.
- As a customer, I want to log in with my email, so that I see my own records.
"""


def demo_project_ensure(*, owner: User) -> Project:
    """The demo tenant's demo project, created and started once (idempotent)."""
    if not Customer.objects.filter(schema_name=DEMO_SCHEMA).exists():
        raise LookupError("seed the demo customer first (manage.py seed_demo)")
    with schema_context(DEMO_SCHEMA):
        project = Project.objects.filter(name=DEMO_PROJECT).first()
        if project is None:
            project = intake.project_create(name=DEMO_PROJECT, service=Service.MVP, user=owner)
            intake.requirements_submit(project=project, text=DEMO_REQUIREMENTS)
            project.status = Project.Status.IN_DELIVERY
            project.save(update_fields=["status"])
        if not Workflow.objects.filter(project=project).exists():
            project_start(project=project, user=owner)
        return project


def demo_approvals() -> int:
    """Grant the demo project's due approvals as ``demo``; returns how many were granted."""
    if not settings.HIVE_DEMO_AUTO_APPROVE or not Customer.objects.filter(schema_name=DEMO_SCHEMA).exists():
        return 0
    granted = 0
    accept_before = timezone.now() - timedelta(seconds=settings.HIVE_DEMO_ACCEPT_AFTER_SECONDS)
    with schema_context(DEMO_SCHEMA):
        waiting = Task.objects.filter(
            project__name=DEMO_PROJECT,
            project__workflow__status=Workflow.Status.RUNNING,
            status=Task.Status.AWAITING_APPROVAL,
        )
        for task in waiting:
            if task.key == ACCEPT and task.ready_at is not None and task.ready_at > accept_before:
                continue
            try:
                task_approve(task=task, user=None, actor=DEMO_ACTOR)
            except WorkflowError:
                continue  # approved meanwhile
            granted += 1
    return granted
