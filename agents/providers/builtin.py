"""The built-in provider: offline, deterministic, no model — real work by every role.

Each step (``agents.work``) works in the project's git repository (``agents.workspace``): it
opens a branch, writes what its role produces, runs the real tools on it (the generated
application's tests under coverage, bandit, ruff, the legacy code's tests, the page-load probe),
commits as the agent and merges after a recorded review. Every event it reports names a branch,
commit, file or measurement that can be inspected afterwards. A step this provider has no work
for fails plainly instead of pretending.

Usage is the wall time of the job (agent-seconds); the built-in provider uses no tokens and
costs nothing beyond the machine.
"""

from __future__ import annotations

import time

from agents.providers.base import JobCancelled, JobContext, JobFailed, JobSpec, Outcome, Usage
from agents.work import Job, step_for


class BuiltinProvider:
    name = "builtin"

    def run(self, spec: JobSpec, context: JobContext) -> Outcome:
        if context.cancelled():
            raise JobCancelled(spec.title)
        step = step_for(spec.role, spec.key)
        if step is None:
            raise JobFailed(
                f"the built-in developers have no work for “{spec.title}”: it needs the model provider or a developer"
            )
        started = time.monotonic()
        context.workspace.parent.mkdir(parents=True, exist_ok=True)
        result = step(Job(spec, context))
        for artifact in result.artifacts:
            context.report("artifact", f"wrote {artifact}", {"path": artifact})
        return Outcome(
            summary=result.summary,
            artifacts=tuple(result.artifacts),
            data=result.data,
            usage=Usage(seconds=time.monotonic() - started),
        )
