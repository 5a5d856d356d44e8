"""The no-op provider: returns at once without touching anything. It exists to measure the
orchestration around a job (benchmarks) and says plainly that it did nothing."""

from __future__ import annotations

from agents.providers.base import JobContext, JobSpec, Outcome


class NoopProvider:
    name = "noop"

    def run(self, spec: JobSpec, context: JobContext) -> Outcome:
        return Outcome(summary=f"no-op: {spec.title} (nothing was done)")
