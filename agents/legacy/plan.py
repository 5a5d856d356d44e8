"""The phased migration plan of a legacy code base.

This module owns the cut of a code base into migration phases. The seed's rule is 20 % of the
system per phase, each phase gated, each phase reversible within 4 hours. The plan:

1. collapses import cycles (strongly connected components), since modules that import each
   other must move together;
2. orders the collapsed graph leaf first (Kahn's algorithm over "depends on" edges, ties broken
   by path so a package's modules stay adjacent): a module comes after every module it depends
   on, so modules that depend on nothing in the code base come first;
3. cuts that order into contiguous slices whose code lines are as close as possible to 1/N of
   the total (N = 5). Because every dependency precedes its dependant in the order, each phase
   depends only on modules of its own or earlier phases.

Fewer phases are planned when there are fewer than N units to move (modules with code, after
collapsing cycles); the plan says so in ``note``. A cycle bigger than a fifth of the code makes
its phase bigger than 20 %; the phase names the cycle.

Rollback is by strangler routing: each phase's new implementation sits behind its own flag in
the routing layer, so switching the flag off sends traffic back to the phase's legacy modules —
a configuration change plus re-syncing the phase's writes, well within the 4-hour commitment.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from agents.legacy.dependencies import DependencyGraph, condense

TARGET_PHASES = 5
ROLLBACK_HOURS = 4
ORDERING = (
    "leaf-first topological order of the import graph with cycles collapsed, cut into "
    "contiguous slices of about equal code lines"
)
_LISTED_MODULES = 5


@dataclass(frozen=True)
class Phase:
    """One migration phase."""

    number: int
    modules: tuple[str, ...]
    code_lines: int
    share: float
    depends_on_phases: tuple[int, ...]
    needed_by_phases: tuple[int, ...]
    cycles: tuple[tuple[str, ...], ...]
    rollback: str


@dataclass(frozen=True)
class MigrationPlan:
    """The ordered phases, with the reason when there are fewer than the target."""

    target_phases: int
    phases: tuple[Phase, ...]
    total_code_lines: int
    ordering: str
    rollback_within_hours: int
    note: str | None

    def phase_of(self) -> dict[str, int]:
        return {module: phase.number for phase in self.phases for module in phase.modules}


def plan_migration(
    graph: DependencyGraph,
    code_lines: Mapping[str, int],
    *,
    phases: int = TARGET_PHASES,
) -> MigrationPlan:
    """Plan the migration of every module of ``graph`` in at most ``phases`` phases."""
    condensation = condense(graph)
    components = condensation.components
    weights = [sum(code_lines.get(m, 0) for m in members) for members in components]
    order = _leaf_first(condensation.edges, components)
    total = sum(weights)
    units = sum(1 for number in order if weights[number] > 0)
    note: str | None = None
    count = min(phases, units)
    if units == 0:
        note = "no code lines to migrate"
        return MigrationPlan(phases, (), total, ORDERING, ROLLBACK_HOURS, note)
    if count < phases:
        note = (
            f"only {units} module{'s' if units != 1 else ''} with code "
            "(after grouping modules that import each other), so "
            f"{count} phase{'s' if count != 1 else ''} of one module each instead of {phases}"
        )
    slices = _cut(order, weights, count, total)
    phase_of_component = {number: index + 1 for index, chunk in enumerate(slices) for number in chunk}
    depends: dict[int, set[int]] = defaultdict(set)
    for number, targets in condensation.edges.items():
        for target in targets:
            here, there = phase_of_component[number], phase_of_component[target]
            if there != here:
                depends[here].add(there)
    needed_by: dict[int, set[int]] = defaultdict(set)
    for here, theirs in depends.items():
        for there in theirs:
            needed_by[there].add(here)
    built: list[Phase] = []
    for index, chunk in enumerate(slices):
        number = index + 1
        modules = tuple(module for component in chunk for module in components[component])
        lines = sum(weights[component] for component in chunk)
        built.append(
            Phase(
                number=number,
                modules=modules,
                code_lines=lines,
                share=round(lines / total, 4),
                depends_on_phases=tuple(sorted(depends[number])),
                needed_by_phases=tuple(sorted(needed_by[number])),
                cycles=tuple(components[c] for c in chunk if len(components[c]) > 1),
                rollback=_rollback(number, modules, sorted(needed_by[number])),
            )
        )
    return MigrationPlan(phases, tuple(built), total, ORDERING, ROLLBACK_HOURS, note)


def _leaf_first(edges: Mapping[int, frozenset[int]], components: tuple[tuple[str, ...], ...]) -> list[int]:
    """Kahn's algorithm: a component is ready once everything it depends on is placed."""
    waiting = {number: len(edges.get(number, ())) for number in range(len(components))}
    dependants: dict[int, list[int]] = defaultdict(list)
    for number, targets in edges.items():
        for target in targets:
            dependants[target].append(number)
    ready = [(components[n][0], n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, number = heapq.heappop(ready)
        order.append(number)
        for dependant in dependants[number]:
            waiting[dependant] -= 1
            if waiting[dependant] == 0:
                heapq.heappush(ready, (components[dependant][0], dependant))
    return order


def _cut(order: list[int], weights: list[int], count: int, total: int) -> list[list[int]]:
    """Contiguous slices of ``order``, each with code, ends as near as can be to k/count."""
    positions = [i for i, number in enumerate(order) if weights[number] > 0]
    cumulative: list[int] = []
    running = 0
    for number in order:
        running += weights[number]
        cumulative.append(running)
    # A slice ends right after a unit with code; slice k must leave count-k units for the rest.
    ends: list[int] = []
    previous = -1
    for k in range(1, count):
        goal = total * k / count
        allowed = [p for rank, p in enumerate(positions) if p > previous and len(positions) - rank - 1 >= count - k]
        best = min(allowed, key=lambda p: (abs(cumulative[p] - goal), p))
        ends.append(best)
        previous = best
    slices: list[list[int]] = []
    start = 0
    for end in [*ends, len(order) - 1]:
        slices.append(order[start : end + 1])
        start = end + 1
    return slices


def _rollback(number: int, modules: tuple[str, ...], needed_by: list[int]) -> str:
    listed = ", ".join(modules[:_LISTED_MODULES])
    if len(modules) > _LISTED_MODULES:
        listed += f" and {len(modules) - _LISTED_MODULES} more"
    later = ""
    if needed_by:
        phases = ", ".join(str(n) for n in needed_by)
        later = (
            f" If phase{'s' if len(needed_by) > 1 else ''} {phases}, which depend on this one, "
            "are already live, roll them back first, newest first."
        )
    return (
        f"Switch the strangler-router flag 'migration-phase-{number}' off so requests for this "
        f"phase go back to the legacy modules ({listed}), which run in parallel until the phase "
        "is accepted; replay the writes made through the new code to the legacy data store "
        "from the change log, then confirm with the phase's parity tests on the legacy path."
        f"{later} Target: complete within {ROLLBACK_HOURS} hours."
    )
