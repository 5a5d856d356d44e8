"""The phased migration plan of a legacy code base.

This module owns the cut of a code base into migration phases. The seed's rule is about 20 % of
the system per phase, each phase gated, each phase reversible within 4 hours. The plan:

1. finds import cycles (strongly connected components), since modules that import each other
   move together — unless a cycle is bigger than a phase may be (``MAX_SHARE`` of the code): then
   the cycle is split along its **weakest edges**, the imports with the fewest import references
   (imported names), removed one at a time until no remaining cycle is too big, and then every
   removed edge that can be put back without re-forming a too-big cycle is put back. The edges
   that stay cut are listed on the plan with the reason: the importing module moves before the
   module it imports, and calls it through the legacy path until that module's phase. When no
   balanced cut exists that way, cycles larger than ``MIN_SHARE`` are split too (a cycle of 20 %
   can still leave no phase boundary that keeps the others within the rule), and that plan is
   used if it balances;
2. orders the modules leaf first (Kahn's algorithm over "depends on" edges, ties broken by path
   so a package's modules stay adjacent): a module comes after every module it depends on
   (except across a cut edge);
3. cuts that order into contiguous phases, each within ``MIN_SHARE``–``MAX_SHARE`` of the code
   lines (15–25 %), preferring ``TARGET_PHASES`` (5) phases, then 4, then 6 (3 or 2 only when a
   module larger than a phase leaves too little for more); a single module larger than
   ``MAX_SHARE`` is a phase of its own — or, when no cut exists that way, it takes beside it
   modules too small together (under ``MIN_SHARE``) to be a phase. The cut is the
   one whose shares are closest to equal (a dynamic programme over the order);
4. when still no cut keeps the balance, the imports of **re-export modules** (a package
   ``__init__`` that only gathers its submodules' names, ``facades``) stop constraining the
   order: such a module must otherwise come last, and a small last module can leave no balanced
   cut. Those imports are listed on the plan as cut edges, with the reason. When no cut in the
   order keeps the balance even then (too few or too uneven modules), the plan says so in
   ``note`` and falls back to slices as close as possible to equal.

The plan is of the code to migrate only: ``assess`` gives it the graph without the code's own
tests, packaging, docs and examples (``kinds``).

Each phase's price is ``billing.milestones.phase_price_cents`` of its code lines, the rule the
quote and the charge use.

Rollback steps fit what the code is: a service (it imports a web framework) is rolled back by
switching the phase's strangler-routing flag off; a library by reverting the phase's merge and
publishing the previous release. Data-store steps (replaying writes to the legacy store) appear
only when the code uses a data store (``data_stores``, found from its imports).
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from agents.legacy.dependencies import DependencyGraph, strongly_connected_components
from billing.milestones import phase_price_cents

TARGET_PHASES = 5
MIN_SHARE = 0.15
MAX_SHARE = 0.25
ROLLBACK_HOURS = 4
ORDERING = (
    "leaf-first topological order of the import graph (cycles kept together unless larger than a "
    "phase), cut into contiguous phases of 15–25 % of the code lines each"
)
_LISTED_MODULES = 5
# 5, then 4 or 6; fewer only when a module larger than a phase leaves too little for the rest.
_PHASE_COUNTS = (TARGET_PHASES, TARGET_PHASES - 1, TARGET_PHASES + 1, TARGET_PHASES - 2, TARGET_PHASES - 3)
_RANDOM_ORDERS = 40
_RANDOM_ORDERS_UP_TO = 2000  # modules (after grouping cycles): beyond, the three fixed orders only
_REEXPORT_REASON = (
    "{m} only re-exports names from {t} (imports, __all__ and constants, no code that uses them), so it may "
    "move before {t}; its import reaches the legacy {t} until that module's phase"
)


def _oversize_fits(weights: Sequence[int], total: int) -> bool:
    """A phase above ``MAX_SHARE`` is kept for one module alone larger than a phase, plus modules
    too small together (under ``MIN_SHARE``) to be a phase of their own."""
    largest = max(weights, default=0)
    return largest > total * MAX_SHARE + 1e-9 and sum(weights) - largest < total * MIN_SHARE - 1e-9


@dataclass(frozen=True)
class CutEdge:
    """An import of a too-big cycle that the plan breaks: ``importer`` moves before ``imported``."""

    importer: str
    imported: str
    references: int
    reason: str


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
    price_cents: int
    cut_edges: tuple[CutEdge, ...]


@dataclass(frozen=True)
class MigrationPlan:
    """The ordered phases, with the reason when the balance rule could not be kept."""

    target_phases: int
    phases: tuple[Phase, ...]
    total_code_lines: int
    ordering: str
    rollback_within_hours: int
    note: str | None
    min_share: float
    max_share: float
    balanced: bool
    cut_edges: tuple[CutEdge, ...]
    kind: str  # "service" or "library": which rollback applies
    data_stores: tuple[str, ...]

    def phase_of(self) -> dict[str, int]:
        return {module: phase.number for phase in self.phases for module in phase.modules}


def plan_migration(
    graph: DependencyGraph,
    code_lines: Mapping[str, int],
    *,
    phases: int = TARGET_PHASES,
    service: bool = False,
    data_stores: Sequence[str] = (),
    reexports: frozenset[str] = frozenset(),
) -> MigrationPlan:
    """Plan the migration of every module of ``graph`` in about ``phases`` phases; ``reexports`` are
    the modules that only re-export names (``facades``), which may move before what they import."""
    total = sum(code_lines.get(m, 0) for m in graph.modules)
    kind = "service" if service else "library"
    stores = tuple(sorted(set(data_stores)))
    attempt = _attempt(graph, code_lines, total, MAX_SHARE, phases)
    if not attempt.balanced and attempt.units >= round(1 / MAX_SHARE):
        # Cycles within a phase's size can still make every cut unbalanced: split those larger
        # than the smallest phase too, and keep that plan if it balances.
        tighter = _attempt(graph, code_lines, total, MIN_SHARE, phases)
        attempt = tighter if tighter.balanced else attempt
    released = frozenset(m for m in reexports if graph.dependencies(m) - {m})
    for share in (MAX_SHARE, MIN_SHARE):
        if attempt.balanced or not released or attempt.units < round(1 / MAX_SHARE):
            break
        # A package __init__ that re-exports everything must otherwise come last, and a small last
        # module can leave no balanced cut: let re-export modules move before what they import.
        freed = _attempt(graph, code_lines, total, share, phases, released)
        attempt = freed if freed.balanced else attempt
    if attempt.units == 0:
        return MigrationPlan(
            phases, (), total, ORDERING, ROLLBACK_HOURS, "no code lines to migrate", MIN_SHARE, MAX_SHARE, True,
            tuple(attempt.cut), kind, stores,
        )  # fmt: skip
    built = _phases(
        attempt.slices, attempt.components, attempt.weights, attempt.edges, graph, attempt.cut, total, kind, stores
    )
    return MigrationPlan(
        phases, tuple(built), total, ORDERING, ROLLBACK_HOURS, attempt.note, MIN_SHARE, MAX_SHARE, attempt.balanced,
        tuple(attempt.cut), kind, stores,
    )  # fmt: skip


@dataclass(frozen=True)
class _Attempt:
    components: tuple[tuple[str, ...], ...]
    edges: dict[int, frozenset[int]]
    weights: list[int]
    cut: list[CutEdge]
    units: int
    slices: list[list[int]]
    note: str | None
    balanced: bool


def _attempt(
    graph: DependencyGraph,
    code_lines: Mapping[str, int],
    total: int,
    share: float,
    phases: int,
    released: frozenset[str] = frozenset(),
) -> _Attempt:
    """Split cycles larger than ``share`` of the code, order, and cut into phases; the imports of
    the ``released`` (re-export) modules do not constrain the order."""
    freed = [CutEdge(m, t, graph.weight(m, t), _REEXPORT_REASON.format(m=m, t=t)) for m in released
             for t in sorted(graph.dependencies(m) - {m})]  # fmt: skip
    ordered = DependencyGraph(
        graph.modules,
        {m: frozenset() if m in released else targets for m, targets in graph.edges.items()},
        graph.external,
        graph.references,
    )
    kept, cut = split_large_cycles(ordered, code_lines, total * share)
    cut = sorted([*cut, *freed], key=lambda e: (e.importer, e.imported))
    components = tuple(strongly_connected_components(graph.modules, kept))
    component_of = {member: number for number, members in enumerate(components) for member in members}
    edges = {
        number: frozenset(
            component_of[t] for m in members for t in kept.get(m, ()) if t in component_of and component_of[t] != number
        )
        for number, members in enumerate(components)
    }
    weights = [sum(code_lines.get(m, 0) for m in members) for members in components]
    # Several leaf-first orders: by path (a package's modules together), smaller or larger modules
    # first, then seeded random tie-breaks; the first order in which a balanced cut exists is used.
    shuffled = random.Random(len(components))  # noqa: S311 - tie-breaks of a plan, reproducible, not secret
    # Bounded by work, not time, so the same code always gets the same plan.
    tries = _RANDOM_ORDERS if len(components) <= _RANDOM_ORDERS_UP_TO else 0
    tie_breaks = [[shuffled.random() for _ in components] for _ in range(tries)]
    orders = [
        _leaf_first(edges, components),
        _leaf_first(edges, components, lambda n: (weights[n], components[n][0])),
        _leaf_first(edges, components, lambda n: (-weights[n], components[n][0])),
        *(_leaf_first(edges, components, _by(keys)) for keys in tie_breaks),
    ]
    units = sum(1 for number in orders[0] if weights[number] > 0)
    if units == 0:
        return _Attempt(components, edges, weights, cut, 0, [], None, True)
    slices, note = _balanced_cut(orders, weights, total, phases, units)
    shares = [sum(weights[c] for c in chunk) / total for chunk in slices]
    balanced = all(
        MIN_SHARE - 1e-9 <= part <= MAX_SHARE + 1e-9 or _oversize_fits([weights[c] for c in chunk], total)
        for part, chunk in zip(shares, slices, strict=True)
    )
    return _Attempt(components, edges, weights, cut, units, slices, note, balanced)


def split_large_cycles(
    graph: DependencyGraph, code_lines: Mapping[str, int], limit: float
) -> tuple[dict[str, set[str]], list[CutEdge]]:
    """The import edges with too-big cycles broken along their weakest edges, and the cut edges."""
    total = sum(code_lines.get(m, 0) for m in graph.modules) or 1
    percent = round(100 * limit / total)
    why = "more than one phase may be" if percent >= round(MAX_SHARE * 100) else "too big to balance the phases"
    kept: dict[str, set[str]] = {m: set(graph.dependencies(m)) - {m} for m in graph.modules}

    def oversize() -> list[tuple[str, ...]]:
        return [
            c
            for c in strongly_connected_components(graph.modules, kept)
            if len(c) > 1 and sum(code_lines.get(m, 0) for m in c) > limit
        ]

    removed: list[tuple[str, str]] = []
    big = oversize()
    while big:
        for component in big:
            members = set(component)
            inside = [(s, t) for s in component for t in kept[s] if t in members]
            source, target = min(inside, key=lambda e: (graph.weight(*e), code_lines.get(e[1], 0), e))
            kept[source].discard(target)
            removed.append((source, target))
        big = oversize()
    # Put back what can go back, strongest first: only the edges that must go stay cut.
    for source, target in sorted(removed, key=lambda e: (-graph.weight(*e), e)):
        kept[source].add(target)
        if oversize():
            kept[source].discard(target)
    cut = [
        CutEdge(
            importer=source,
            imported=target,
            references=graph.weight(source, target),
            reason=(
                f"the import cycle holding {source} and {target} is larger than {percent} % of the code "
                f"({why}); this is one of its weakest imports "
                f"({graph.weight(source, target)} reference{'s' if graph.weight(source, target) != 1 else ''}), "
                f"so {source} may move before {target} and calls it through the legacy path until then"
            ),
        )
        for source, target in sorted(removed)
        if target not in kept[source]
    ]
    return kept, cut


def _phases(
    slices: list[list[int]],
    components: tuple[tuple[str, ...], ...],
    weights: list[int],
    edges: Mapping[int, frozenset[int]],
    graph: DependencyGraph,
    cut: list[CutEdge],
    total: int,
    kind: str,
    stores: tuple[str, ...],
) -> list[Phase]:
    phase_of_component = {number: index + 1 for index, chunk in enumerate(slices) for number in chunk}
    phase_of_module = {m: phase_of_component[c] for c, members in enumerate(components) for m in members}
    depends: dict[int, set[int]] = defaultdict(set)
    for source in graph.modules:
        for target in graph.dependencies(source):
            here, there = phase_of_module.get(source), phase_of_module.get(target)
            if here is not None and there is not None and there < here:
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
        members = set(modules)
        built.append(
            Phase(
                number=number,
                modules=modules,
                code_lines=lines,
                share=round(lines / total, 4),
                depends_on_phases=tuple(sorted(depends[number])),
                needed_by_phases=tuple(sorted(needed_by[number])),
                cycles=tuple(components[c] for c in chunk if len(components[c]) > 1),
                rollback=_rollback(number, modules, sorted(needed_by[number]), kind, stores),
                price_cents=phase_price_cents(lines),
                cut_edges=tuple(e for e in cut if e.importer in members or e.imported in members),
            )
        )
    return built


def _leaf_first(
    edges: Mapping[int, frozenset[int]],
    components: tuple[tuple[str, ...], ...],
    key: Callable[[int], tuple[object, ...]] | None = None,
) -> list[int]:
    """Kahn's algorithm: a component is ready once everything it depends on is placed; ties go
    to the smallest ``key`` (by default the component's first path)."""
    rank = key or (lambda n: (components[n][0],))
    waiting = {number: len(edges.get(number, ())) for number in range(len(components))}
    dependants: dict[int, list[int]] = defaultdict(list)
    for number, targets in edges.items():
        for target in targets:
            dependants[target].append(number)
    ready = [(rank(n), n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, number = heapq.heappop(ready)
        order.append(number)
        for dependant in dependants[number]:
            waiting[dependant] -= 1
            if waiting[dependant] == 0:
                heapq.heappush(ready, (rank(dependant), dependant))
    return order


def _by(keys: list[float]) -> Callable[[int], tuple[object, ...]]:
    return lambda number: (keys[number],)


def _balanced_cut(
    orders: list[list[int]], weights: list[int], total: int, phases: int, units: int
) -> tuple[list[list[int]], str | None]:
    """A contiguous cut of one of ``orders`` with every phase within the shares, or the fallback."""
    order = orders[0]
    if units < round(1 / MAX_SHARE):
        count = min(phases, units)
        note = (
            f"only {units} module{'s' if units != 1 else ''} with code (after grouping modules that import "
            f"each other), so {count} phase{'s' if count != 1 else ''} of one module each instead of {phases}"
        )
        return _cut(order, weights, count, total), note
    counts = (phases,) if phases != TARGET_PHASES else _PHASE_COUNTS
    for company in (False, True):  # an oversize module alone first; then with small modules beside it
        for candidate in orders:
            for count in counts:
                found = _balanced(candidate, weights, total, count, company=company)
                if found is not None:
                    return found, None
    count = min(phases, units)
    note = (
        f"no cut of the dependency order keeps every phase within {round(MIN_SHARE * 100)}–"
        f"{round(MAX_SHARE * 100)} % of the code (the modules are too few or too uneven), so the "
        f"{count} phases are as close to equal as the order allows"
    )
    return _cut(order, weights, count, total), note


def _balanced(
    order: list[int], weights: list[int], total: int, count: int, *, company: bool = False
) -> list[list[int]] | None:
    """Dynamic programme: ``count`` slices, each within the shares or one oversize unit alone (with
    ``company``: plus units under ``MIN_SHARE`` together), minimising the squared distance of the
    shares from 1/count. None when there is no such cut."""
    # Units without code lines join the slice of the unit before them (or the first slice).
    groups: list[list[int]] = []
    for number in order:
        if weights[number] > 0 or not groups:
            groups.append([number])
        else:
            groups[-1].append(number)
    sizes = [sum(weights[n] for n in group) for group in groups]
    prefix = [0]
    for size in sizes:
        prefix.append(prefix[-1] + size)
    low, high, ideal = total * MIN_SHARE, total * MAX_SHARE, total / count
    n = len(groups)
    infinity = float("inf")
    best = [[infinity] * (n + 1) for _ in range(count + 1)]
    back = [[-1] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for k in range(1, count + 1):
        for end in range(1, n + 1):
            start, largest = end - 1, 0
            while start >= 0:
                weight = prefix[end] - prefix[start]
                largest = max(largest, sizes[start])
                if weight > high and end - start > 1 and (not company or weight - largest >= low):
                    break
                alone = end - start == 1 or (company and weight - largest < low - 1e-9)
                fits = low - 1e-9 <= weight <= high + 1e-9 or (alone and largest > high)
                if fits and best[k - 1][start] < infinity:
                    cost = best[k - 1][start] + ((weight - ideal) / total) ** 2
                    if cost < best[k][end]:
                        best[k][end], back[k][end] = cost, start
                start -= 1
    if best[count][n] == infinity:
        return None
    slices: list[list[int]] = []
    end = n
    for k in range(count, 0, -1):
        start = back[k][end]
        slices.append([number for group in groups[start:end] for number in group])
        end = start
    return slices[::-1]


def _cut(order: list[int], weights: list[int], count: int, total: int) -> list[list[int]]:
    """Contiguous slices of ``order``, each with code, ends as near as can be to k/count."""
    positions = [i for i, number in enumerate(order) if weights[number] > 0]
    cumulative: list[int] = []
    running = 0
    for number in order:
        running += weights[number]
        cumulative.append(running)
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


def _rollback(number: int, modules: tuple[str, ...], needed_by: list[int], kind: str, stores: tuple[str, ...]) -> str:
    listed = ", ".join(modules[:_LISTED_MODULES])
    if len(modules) > _LISTED_MODULES:
        listed += f" and {len(modules) - _LISTED_MODULES} more"
    later = ""
    if needed_by:
        phases = ", ".join(str(n) for n in needed_by)
        several = len(needed_by) > 1
        later = (
            f" If phase{'s' if several else ''} {phases}, which depend{'' if several else 's'} on this one, "
            f"{'are' if several else 'is'} already live, roll {'them' if several else 'it'} back first"
            f"{', newest first' if several else ''}."
        )
    if kind == "service":
        steps = (
            f"Switch the strangler-router flag 'migration-phase-{number}' off so requests for this phase go back "
            f"to the legacy modules ({listed}), which run in parallel until the phase is accepted"
        )
    else:
        steps = (
            f"Revert the merge of phase {number} on the main branch (git revert of its merge commit) and publish "
            f"the previous release of its modules ({listed}); code that pinned the previous release is unaffected"
        )
    data = (
        f"; replay the writes made through the new code to the legacy data store ({', '.join(stores)}) "
        "from the change log"
        if stores
        else ""
    )
    return (
        f"{steps}{data}; then confirm with the phase's characterization and parity tests on the legacy code."
        f"{later} Target: complete within {ROLLBACK_HOURS} hours."
    )
