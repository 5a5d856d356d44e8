"""Reads of the API that gather several apps' rows into one answer: the acceptance matrix and the
gates of a project. The rows and numbers are the success app's (``success.acceptance``); only the
grouping into one document is done here, with a fixed number of queries per project."""

from __future__ import annotations

from typing import Any

from projects.models import Project
from success.acceptance import TARGET_PERCENT, acceptance_summary, story_acceptance_rows
from success.criteria import CriterionRow, criteria_matrix, gate_of
from success.gates import gate_rows
from success.models import StoryDecision


def _check(row: CriterionRow) -> dict[str, Any]:
    check = row.check
    return {
        "index": row.index,
        "criterion": row.criterion,
        "derived": row.derived,
        "result": row.outcome,
        "test": check.test if check else "",
        "commit": check.commit if check else "",
        "checked_at": check.checked_at if check else None,
        "waived_reason": check.waived_reason if check else "",
        "evidence": check.evidence if check else "",
    }


def acceptance_matrix(project: Project) -> dict[str, Any]:
    matrix = criteria_matrix(project)
    checks = {entry.story.pk: [_check(row) for row in entry.rows] for entry in matrix}
    gate = gate_of(matrix)
    rows = []
    for row in story_acceptance_rows(project):
        story, latest = row["story"], row["latest"]
        rows.append(
            {
                "story_id": story.pk,
                "title": story.title,
                "acceptance_criteria": [str(c) for c in story.acceptance_criteria],
                "implemented": row["implemented"],
                "fixing": row["fixing"],
                "status": latest.decision if latest is not None else "undecided",
                "unmet_criteria": list(latest.unmet_criteria)
                if latest is not None and latest.decision == StoryDecision.Decision.REJECTED
                else [],
                "decisions": row["history"],
                "checks": checks.get(story.pk, []),
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
        "gate": {
            "state": gate.state,
            "total": gate.total,
            "passed": gate.passed,
            "failed": gate.count("fail"),
            "unverified": gate.count("unverified"),
            "waived": gate.count("waived"),
        },
        "stories": rows,
    }


def project_gates(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "phase_id": row["phase"].pk,
            "key": row["phase"].key,
            "name": row["phase"].name,
            "status": row["phase"].status,
            "gate_note": row["phase"].gate_note,
            "runs": row["runs"],
            "waivers": row["waivers"],
        }
        for row in gate_rows(project)
    ]
