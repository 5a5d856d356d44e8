"""Complexity, dependency graph, debt, COCOMO II, migration plan and the whole assessment
(agents/legacy/complexity.py, dependencies.py, debt.py, effort.py, plan.py, assessment.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.metrics import mi_visit

from agents.legacy import assess
from agents.legacy.complexity import (
    APPROXIMATION,
    NOT_APPLICABLE,
    RADON,
    FunctionComplexity,
    ModuleComplexity,
    measure_complexity,
)
from agents.legacy.debt import estimate_debt
from agents.legacy.dependencies import (
    DependencyGraph,
    build_dependency_graph,
    condense,
    cycles,
    rank_hotspots,
    strongly_connected_components,
)
from agents.legacy.effort import estimate_effort
from agents.legacy.languages import HTML, language_for
from agents.legacy.loc import scan_file, scan_source
from agents.legacy.plan import plan_migration
from agents.legacy.sources import SourceFile, collect_sources
from billing.catalog import assessment_price_cents, modernization_size_class

FIXTURE = Path(__file__).parent / "fixtures" / "legacy_app"


def _measure(relative: str) -> ModuleComplexity:
    language = language_for(relative)
    assert language is not None
    source = SourceFile(relative, language, (FIXTURE / relative).read_text())
    return measure_complexity(source, scan_file(source))


def _source(path: str, text: str) -> SourceFile:
    language = language_for(path)
    assert language is not None
    return SourceFile(path, language, text)


def _fixture_graph() -> tuple[DependencyGraph, dict[str, int]]:
    tree = collect_sources(FIXTURE)
    code = {source.path: scan_file(source).counts.code for source in tree.files}
    return build_dependency_graph(tree.files), code


# Complexity --------------------------------------------------------------------------------


def test_it_measures_python_with_radon() -> None:
    text = (FIXTURE / "shop/services/pricing.py").read_text()
    measured = _measure("shop/services/pricing.py")
    assert measured.method == RADON
    expected = {block.fullname: block.complexity for block in cc_visit(text)}
    assert {f.name: f.complexity for f in measured.functions} == expected
    assert measured.max_complexity == expected["line_price"] > 10
    # The shared-parse computation is radon's own maintainability index.
    assert measured.maintainability_index == round(mi_visit(text, multi=True), 2)


def test_it_names_methods_with_their_class() -> None:
    names = {f.name for f in _measure("shop/models/order.py").functions}
    assert {"OrderLine.__init__", "Order.add", "Order.total"} <= names


def test_it_approximates_javascript_complexity_per_function() -> None:
    measured = _measure("web/static/api.js")
    assert measured.method == APPROXIMATION
    # fetchOrders: 1 + if + && + ?: = 4; orderTotal: 1 + for = 2.
    assert [(f.name, f.line, f.end_line, f.complexity) for f in measured.functions] == [
        ("fetchOrders", 6, 13, 4),
        ("orderTotal", 16, 22, 2),
    ]
    assert measured.maintainability_index is not None
    assert 0 < measured.maintainability_index <= 100


def test_it_approximates_java_complexity_per_method() -> None:
    measured = _measure("java/src/com/shop/ledger/Ledger.java")
    # post: 1 + if + ||; balance: 1 + for + if.
    assert {f.name: f.complexity for f in measured.functions} == {"post": 3, "balance": 3}


def test_it_ignores_keywords_in_comments_and_strings() -> None:
    source = _source("a.c", 'int f(int x) {\n  // if if if\n  puts("while && ||");\n  return x;\n}\n')
    measured = measure_complexity(source, scan_file(source))
    assert measured.functions == (FunctionComplexity("f", 1, 5, 1),)


def test_it_approximates_python_2_code_that_does_not_parse() -> None:
    text = "def f(x):\n    if x and y:\n        print 'yes'\n    for i in x: pass\n"
    source = _source("old.py", text)
    measured = measure_complexity(source, scan_file(source))
    assert measured.method == APPROXIMATION
    assert measured.functions == (FunctionComplexity("f", 1, 4, 4),)


def test_it_measures_cobol_paragraphs_and_ruby_methods() -> None:
    cobol = _source(
        "pay.cbl",
        "       PROCEDURE DIVISION.\n"
        "       MAIN-PARA.\n"
        "           IF A > 1 AND B < 2\n"
        "              PERFORM CALC-PARA UNTIL DONE\n"
        "           END-IF.\n"
        "       CALC-PARA.\n"
        "           ADD 1 TO A.\n",
    )
    measured = measure_complexity(cobol, scan_file(cobol))
    assert {f.name: f.complexity for f in measured.functions} == {"MAIN-PARA": 4, "CALC-PARA": 1}
    ruby = _source("a.rb", "def a(x)\n  return 1 if x && y\nend\ndef b\n  2\nend\n")
    measured = measure_complexity(ruby, scan_file(ruby))
    assert {f.name: f.complexity for f in measured.functions} == {"a": 3, "b": 1}


def test_it_does_not_measure_markup() -> None:
    page = SourceFile("index.html", HTML, "<p>if && ||</p>\n")
    measured = measure_complexity(page, scan_source(page.text, HTML))
    assert measured.method == NOT_APPLICABLE
    assert measured.maintainability_index is None


# Dependency graph --------------------------------------------------------------------------


def test_it_resolves_absolute_relative_and_package_imports() -> None:
    graph, _ = _fixture_graph()
    assert graph.dependencies("shop/services/checkout.py") == {
        "shop/models/__init__.py",  # from ..models import Customer
        "shop/models/order.py",  # from ..models.order import Order
        "shop/services/inventory.py",  # from . import inventory, pricing
        "shop/services/pricing.py",
    }
    assert graph.dependencies("shop/models/product.py") == {"shop/money.py"}
    assert graph.dependencies("batch/scheduler.py") == {"batch/cleanup.py", "batch/nightly.py"}
    assert graph.dependencies("shop/config.py") == frozenset()


def test_it_resolves_javascript_and_java_imports() -> None:
    graph, _ = _fixture_graph()
    assert graph.dependencies("web/static/app.js") == {"web/static/api.js"}
    # Same package: used without an import statement.
    assert graph.dependencies("java/src/com/shop/ledger/Ledger.java") == {"java/src/com/shop/ledger/Entry.java"}


def test_it_finds_the_import_cycle_and_collapses_it() -> None:
    graph, _ = _fixture_graph()
    assert cycles(graph) == [("shop/models/customer.py", "shop/models/order.py")]
    condensation = condense(graph)
    order = condensation.component_of
    assert order["shop/models/customer.py"] == order["shop/models/order.py"]
    for number, targets in condensation.edges.items():
        assert all(target < number for target in targets)  # dependencies come first


def test_it_reports_external_packages_and_other_resolutions() -> None:
    files = [
        _source("app/__init__.py", ""),
        _source("app/main.py", "import requests\nimport os\nfrom django.db import models\nimport helpers\n"),
        _source("app/helpers.py", "from . import main\n"),
        _source("ui/a.ts", "import x from 'lodash';\nimport {y} from '@scope/pkg/sub';\nimport z from './b.js';\n"),
        _source("ui/b.ts", "const fs = require('node:fs');\nexport const z = 1;\n"),
        _source("com/x/Main.java", "package com.x;\nimport com.y.*;\nimport static com.y.Util.max;\n"),
        _source("com/y/Util.java", "package com.y;\npublic class Util {}\n"),
        _source("com/y/Other.java", "package com.y;\npublic class Other {}\n"),
        _source("c/main.c", '#include "util.h"\n#include <stdio.h>\n'),
        _source("include/util.h", "int util(void);\n"),
    ]
    graph = build_dependency_graph(files)
    assert graph.external == ("@scope/pkg", "django", "lodash", "requests")
    assert graph.dependencies("app/main.py") == {"app/helpers.py"}  # Python 2 style neighbour
    assert graph.dependencies("app/helpers.py") == {"app/main.py"}
    assert graph.dependencies("ui/a.ts") == {"ui/b.ts"}
    assert graph.dependencies("com/x/Main.java") == {"com/y/Util.java", "com/y/Other.java"}
    assert graph.dependencies("c/main.c") == {"include/util.h"}


def test_it_finds_components_of_a_deep_graph_without_recursion() -> None:
    nodes = [f"m{i}" for i in range(20_000)]
    edges = {f"m{i}": [f"m{i + 1}"] for i in range(19_999)}
    edges["m19999"] = ["m0"]
    components = strongly_connected_components(nodes, edges)
    assert len(components) == 1 and len(components[0]) == 20_000


def test_it_ranks_hotspots_by_complexity_size_and_fan_in() -> None:
    graph, code = _fixture_graph()
    complexity = {"shop/services/pricing.py": 29, "shop/money.py": 7, "shop/config.py": 6}
    spots = rank_hotspots(graph, complexity=complexity, code_lines=code, limit=2)
    fan_in = graph.fan_in()
    assert [spot.path for spot in spots] == ["shop/services/pricing.py", "shop/config.py"]
    top = spots[0]
    assert top.score == 29 * code["shop/services/pricing.py"] * (1 + fan_in["shop/services/pricing.py"])


# Debt and effort ---------------------------------------------------------------------------


def test_it_prices_debt_per_finding_and_rates_the_ratio() -> None:
    modules = [
        ModuleComplexity(
            "a.py",
            RADON,
            (FunctionComplexity("tangled", 1, 70, 15), FunctionComplexity("ok", 71, 80, 2)),
            17,
            5.0,
        ),
        ModuleComplexity("b.py", RADON, (), 1, 15.0),
        ModuleComplexity("c.py", RADON, (), 1, 80.0),
    ]
    debt = estimate_debt(modules, code_lines=100)
    # tangled: complexity 15 -> 10 + 5 min; 70 lines -> 20 min; a.py MI 5 -> 120; b.py MI 15 -> 60.
    assert debt.remediation_minutes == 15 + 20 + 120 + 60
    assert {rule.rule: (rule.findings, rule.minutes) for rule in debt.rules} == {
        "complex-function": (1, 15),
        "long-function": (1, 20),
        "unmaintainable": (1, 120),
        "hard-to-maintain": (1, 60),
    }
    assert debt.development_minutes == 3000
    assert debt.debt_ratio == round(215 / 3000, 4)
    assert debt.rating == "B"
    assert "SQALE" in debt.method


def test_it_estimates_effort_with_cocomo_ii_nominal_parameters() -> None:
    estimate = estimate_effort(100_000)
    assert estimate.scale_factor_sum == 18.97
    assert estimate.exponent == pytest.approx(0.91 + 0.1897)
    expected_pm = 2.94 * 100 ** (0.91 + 0.1897)
    assert estimate.person_months == pytest.approx(expected_pm, abs=0.05)
    assert estimate.person_months == pytest.approx(465.3, abs=0.1)
    expected_tdev = 3.67 * expected_pm ** (0.28 + 0.2 * 0.1897)
    assert estimate.schedule_months == pytest.approx(expected_tdev, abs=0.05)
    assert set(estimate.effort_multipliers) >= {"RELY", "CPLX", "SCED"}
    assert len(estimate.effort_multipliers) == 17


def test_it_applies_stated_cocomo_overrides_and_refuses_unknown_ones() -> None:
    nominal = estimate_effort(50_000)
    harder = estimate_effort(50_000, effort_multipliers={"CPLX": 1.34})
    assert harder.person_months == pytest.approx(nominal.person_months * 1.34, abs=0.1)
    with pytest.raises(ValueError, match="unknown COCOMO II scale factor"):
        estimate_effort(1, scale_factors={"XYZ": 1.0})
    assert estimate_effort(0).person_months == 0.0


# Migration plan ----------------------------------------------------------------------------


def test_it_plans_five_dependency_ordered_phases_of_about_a_fifth() -> None:
    graph, code = _fixture_graph()
    plan = plan_migration(graph, code)
    assert len(plan.phases) == 5
    assert plan.note is None
    phase_of = plan.phase_of()
    assert set(phase_of) == set(graph.modules)
    for source, target in graph.edge_list():
        assert phase_of[target] <= phase_of[source], (source, target)
    for phase in plan.phases:
        assert phase.share == pytest.approx(0.20, abs=0.05), phase
        assert all(n < phase.number for n in phase.depends_on_phases)
        assert "4 hours" in phase.rollback and phase.modules[0] in phase.rollback
    assert sum(phase.code_lines for phase in plan.phases) == plan.total_code_lines == sum(code.values())
    # Leaf modules first: phase 1 depends on nothing outside itself.
    first = plan.phases[0]
    assert all(phase_of[dep] == 1 for module in first.modules for dep in graph.dependencies(module))
    assert "shop/money.py" in first.modules and "shop/config.py" in first.modules
    # The cycle moves as one.
    assert phase_of["shop/models/customer.py"] == phase_of["shop/models/order.py"]


def test_it_plans_fewer_phases_for_a_small_code_base_and_says_why() -> None:
    files = [
        _source("a.py", "import b\nx = 1\n"),
        _source("b.py", "import c\ny = 2\n"),
        _source("c.py", "z = 3\n"),
    ]
    graph = build_dependency_graph(files)
    plan = plan_migration(graph, {"a.py": 2, "b.py": 2, "c.py": 1})
    assert [phase.modules for phase in plan.phases] == [("c.py",), ("b.py",), ("a.py",)]
    assert plan.note is not None and "only 3 modules" in plan.note
    assert plan.phases[0].needed_by_phases == (2,)
    assert "phase 2" in plan.phases[0].rollback
    empty = plan_migration(build_dependency_graph([]), {})
    assert empty.phases == () and empty.note == "no code lines to migrate"


# The assessment ----------------------------------------------------------------------------


def test_it_assesses_the_fixture_code_base() -> None:
    result = assess(FIXTURE)
    modules = {module.path: module for module in result.modules}
    money = modules["shop/money.py"]
    assert (money.blank, money.comment, money.code) == (12, 7, 21)  # the hand count above
    assert result.files == 23
    assert result.totals.code == sum(module.code for module in result.modules)
    assert result.hotspots[0].path == "shop/services/pricing.py"
    assert result.cycles == (("shop/models/customer.py", "shop/models/order.py"),)
    assert len(result.plan.phases) == 5
    assert all(module.phase is not None for module in result.modules)
    size = modernization_size_class(result.totals.code)
    assert (result.size_class.name, result.size_class.timeline) == (size.name, size.timeline.label)
    assert result.assessment_price_cents == assessment_price_cents(
        code_loc=result.totals.code, mean_complexity=result.mean_function_complexity
    )
    assert 5_000_000 <= result.assessment_price_cents <= 15_000_000
    assert result.effort.ksloc == result.totals.code / 1000
    assert set(result.complexity_methods) == {RADON, APPROXIMATION}
    assert result.debt.rules[0].findings >= 1  # line_price is over 10


def test_it_serialises_the_assessment_to_plain_json() -> None:
    data = assess(FIXTURE).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["totals"]["total"] == sum(data["totals"][k] for k in ("blank", "comment", "code"))
    assert data["effort"]["a"] == 2.94
    assert data["plan"]["phases"][0]["number"] == 1
    assert data["size_class"]["timeline"] == "3–6 months"
