"""Reads of the API that gather several apps' rows into one answer: the acceptance matrix and the
gates of a project. The rows and numbers are the success app's (``success.acceptance``); only the
grouping into one document is done here, with a fixed number of queries per project."""

from __future__ import annotations

from typing import Any

from projects.models import Phase, Project, Story, Task
from success.acceptance import TARGET_PERCENT, acceptance_summary
from success.models import GateRun, GateWaiver, StoryDecision


def acceptance_matrix(project: Project) -> dict[str, Any]:
    stories = list(Story.objects.filter(project=project, dropped=False).order_by("position", "pk"))
    history: dict[int, list[StoryDecision]] = {}
    for decision in (
        StoryDecision.objects.filter(project=project).select_related("fix_task").order_by("decided_at", "pk")
    ):
        history.setdefault(decision.story_id, []).append(decision)
    done = {
        int(story_id)
        for story_id in Task.objects.filter(project=project, key="story", status=Task.Status.DONE).values_list(
            "inputs__item__story_id", flat=True
        )
        if story_id is not None
    }
    rows = []
    for story in stories:
        decisions = history.get(story.pk, [])
        latest = decisions[-1] if decisions else None
        fixing = latest is not None and latest.fix_task is not None and latest.fix_task.status not in Task.FINISHED
        rows.append(
            {
                "story_id": story.pk,
                "title": story.title,
                "acceptance_criteria": [str(c) for c in story.acceptance_criteria],
                "implemented": story.pk in done,
                "fixing": fixing,
                "status": latest.decision if latest is not None else "undecided",
                "unmet_criteria": list(latest.unmet_criteria)
                if latest is not None and latest.decision == StoryDecision.Decision.REJECTED
                else [],
                "decisions": decisions,
            }
        )
    summary = acceptance_summary(project)
    return {
        "summary": {
            "stories": summary.stories,
            "decided": summary.decided,
            "accepted": summary.accepted,
            "rejected": summary.rejected,
            "first_pass_accepted": summary.first_pass_accepted,
            "rate": summary.rate,
            "first_pass_rate": summary.first_pass_rate,
            "criteria_met": summary.criteria_met,
            "on_target": summary.on_target,
            "target": TARGET_PERCENT,
        },
        "stories": rows,
    }


def project_gates(project: Project) -> list[dict[str, Any]]:
    phases = list(Phase.objects.filter(project=project, gated=True).order_by("position"))
    runs: dict[int, list[GateRun]] = {}
    for run in GateRun.objects.filter(project=project).prefetch_related("results").order_by("-number"):
        runs.setdefault(run.phase_id, []).append(run)
    waivers: dict[int, list[GateWaiver]] = {}
    for waiver in GateWaiver.objects.filter(project=project).order_by("created_at", "pk"):
        waivers.setdefault(waiver.phase_id, []).append(waiver)
    return [
        {
            "phase_id": phase.pk,
            "key": phase.key,
            "name": phase.name,
            "status": phase.status,
            "gate_note": phase.gate_note,
            "runs": runs.get(phase.pk, []),
            "waivers": waivers.get(phase.pk, []),
        }
        for phase in phases
    ]
