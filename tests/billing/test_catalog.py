"""The price catalog: the seed's tiers, prices, size classes, standards and guarantee conditions."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from billing.catalog import (
    ASSESSMENT_PRICE,
    AUGMENTATION_PLANS,
    GUARANTEE_DAYS,
    GUARANTEE_REFUND_PERCENT,
    MODERNIZATION_PHASE_GATES,
    MVP_QUALITY_STANDARDS,
    MVP_TIERS,
    PHASE_COUNT,
    PHASE_PRICE,
    PHASE_SHARE_PERCENT,
    ROLLBACK_HOURS,
    AugmentationPlanCode,
    MvpTierCode,
    ServiceCode,
    SizeClassCode,
    assessment_price_cents,
    augmentation_plan,
    format_usd,
    format_usd_compact,
    format_usd_range,
    guarantee_conditions,
    modernization_size_class,
    mvp_tier,
    quality_standards,
)


def test_it_holds_the_three_mvp_tiers_of_the_seed() -> None:
    rows = [
        (
            t.code,
            t.price_cents,
            t.max_stories,
            t.max_integrations,
            t.timeline.label,
            t.hosting.months,
            t.support.label,
        )
        for t in MVP_TIERS
    ]
    assert rows == [
        (MvpTierCode.SIMPLE, 7_500_000, 15, 3, "2–3 weeks", 6, "30-day support"),
        (MvpTierCode.STANDARD, 15_000_000, 30, 8, "4–6 weeks", 12, "90-day support and optimization"),
        (MvpTierCode.COMPLEX, 30_000_000, 50, None, "6–8 weeks", 24, "6-month managed service"),
    ]
    assert [t.price_label for t in MVP_TIERS] == ["$75,000", "$150,000", "$300,000"]
    assert MVP_TIERS[2].integrations_label == "unlimited integrations"
    assert MVP_TIERS[1].hosting.label == "Premium hosting for 12 months"


def test_it_finds_tiers_by_code() -> None:
    assert mvp_tier("standard") is MVP_TIERS[1]
    assert mvp_tier(MvpTierCode.COMPLEX) is MVP_TIERS[2]
    with pytest.raises(KeyError):
        mvp_tier("enterprise")


def test_it_checks_whether_a_scope_fits_a_tier() -> None:
    simple, _standard, complex_ = MVP_TIERS
    assert simple.fits(story_count=15, integration_count=3)
    assert not simple.fits(story_count=16, integration_count=0)
    assert not simple.fits(story_count=1, integration_count=4)
    assert complex_.fits(story_count=50, integration_count=1_000)
    assert not complex_.fits(story_count=51, integration_count=0)


def test_its_catalog_entries_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        MVP_TIERS[0].price_cents = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("cents", "text", "compact"),
    [
        (7_500_000, "$75,000", "$75K"),
        (200_000_000, "$2,000,000", "$2M"),
        (150_000_000, "$1,500,000", "$1.5M"),
        (185_175, "$1,851.75", "$1,851.75"),
        (0, "$0", "$0"),
        (-2_500, "-$25", "-$25"),
    ],
)
def test_it_formats_cents_as_dollars(cents: int, text: str, compact: str) -> None:
    assert format_usd(cents) == text
    assert format_usd_compact(cents) == compact


def test_it_formats_price_ranges() -> None:
    assert format_usd_range(5_000_000, 15_000_000) == "$50,000–$150,000"
    assert format_usd_range(50_000_000, 200_000_000, compact=True) == "$500K–$2M"
    assert ASSESSMENT_PRICE.label == "$50,000–$150,000"
    assert PHASE_PRICE.label == "$500,000–$2,000,000"


# --- modernization ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "size", "months"),
    [
        (0, SizeClassCode.SMALL, "3–6 months"),
        (99_999, SizeClassCode.SMALL, "3–6 months"),
        (100_000, SizeClassCode.MEDIUM, "6–12 months"),
        (500_000, SizeClassCode.MEDIUM, "6–12 months"),
        (500_001, SizeClassCode.LARGE, "12–24 months"),
        (10_000_000, SizeClassCode.LARGE, "12–24 months"),
    ],
)
def test_it_sorts_legacy_systems_into_the_seed_size_classes(loc: int, size: SizeClassCode, months: str) -> None:
    size_class = modernization_size_class(loc)
    assert size_class.code is size
    assert size_class.timeline.label == months


def test_it_refuses_a_negative_line_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        modernization_size_class(-1)


@pytest.mark.parametrize(
    ("loc", "complexity", "dollars"),
    [
        (0, 0.0, 50_000),  # the floor
        (100_000, 5.0, 65_000),  # $0.15 x 100K lines, simple code: no surcharge
        (12_345, 6.5, 59_400),  # 50,000 + 1,851.75 + 7,500 = 59,351.75 → nearest $100
        (500_000, 10.0, 150_000),  # both components at their caps
        (2_000_000, 3.0, 125_000),  # lines count up to 500K only
        (2_000_000, 40.0, 150_000),  # complexity surcharge capped at $25K
    ],
)
def test_it_prices_an_assessment_by_the_stated_rule(loc: int, complexity: float, dollars: int) -> None:
    assert assessment_price_cents(code_loc=loc, mean_complexity=complexity) == dollars * 100


def test_it_keeps_every_assessment_price_within_50k_to_150k_and_monotonic() -> None:
    previous = 0
    for loc in range(0, 1_000_001, 25_000):
        price = assessment_price_cents(code_loc=loc, mean_complexity=7.0)
        assert ASSESSMENT_PRICE.contains(price)
        assert price >= previous
        previous = price
    prices = [assessment_price_cents(code_loc=50_000, mean_complexity=c / 2) for c in range(0, 60)]
    assert prices == sorted(prices)
    assert all(ASSESSMENT_PRICE.contains(p) for p in prices)


@pytest.mark.parametrize(
    ("loc", "complexity"),
    [(-1, 1.0), (10, -0.5), (10, float("nan")), (10, float("inf"))],
)
def test_it_refuses_nonsense_assessment_inputs(loc: int, complexity: float) -> None:
    with pytest.raises(ValueError):
        assessment_price_cents(code_loc=loc, mean_complexity=complexity)


def test_it_migrates_in_five_phases_of_20_percent_with_phase_gates() -> None:
    assert (PHASE_SHARE_PERCENT, PHASE_COUNT, ROLLBACK_HOURS) == (20, 5, 4)
    gates = {g.code: g for g in MODERNIZATION_PHASE_GATES}
    assert gates["functional_parity"].is_met(100) and not gates["functional_parity"].is_met(99.9)
    assert gates["performance_vs_legacy"].is_met(95) and not gates["performance_vs_legacy"].is_met(94.99)
    assert gates["high_security_findings"].is_met(0) and not gates["high_security_findings"].is_met(1)
    assert gates["uat_satisfaction"].is_met(90) and not gates["uat_satisfaction"].is_met(89)
    assert gates["rollback_time"].is_met(4) and not gates["rollback_time"].is_met(4.5)
    assert quality_standards(ServiceCode.MODERNIZATION) == MODERNIZATION_PHASE_GATES


# --- augmentation ----------------------------------------------------------------------------


def test_it_holds_the_three_augmentation_plans() -> None:
    sprint, continuous, project = AUGMENTATION_PLANS
    assert (sprint.price_cents, sprint.per, sprint.sprint_weeks and sprint.sprint_weeks.label) == (
        2_500_000,
        "sprint",
        "2–4 weeks",
    )
    assert (continuous.price_cents, continuous.per, continuous.min_agents) == (7_500_000, "month", 3)
    assert project.is_custom_quote and project.price_cents is None
    assert [p.price_label for p in AUGMENTATION_PLANS] == ["$25,000 per sprint", "$75,000 per month", "Custom quote"]
    assert augmentation_plan("continuous") is continuous
    assert augmentation_plan(AugmentationPlanCode.PROJECT) is project
    with pytest.raises(KeyError):
        augmentation_plan("weekly")


# --- quality standards and guarantee ---------------------------------------------------------


def test_it_holds_the_mvp_quality_standards() -> None:
    standards = {s.code: s for s in MVP_QUALITY_STANDARDS}
    assert standards["test_coverage"].is_met(95) and not standards["test_coverage"].is_met(94.9)
    assert standards["page_load"].is_met(Decimal("1.99")) and not standards["page_load"].is_met(2)
    assert standards["high_security_findings"].is_met(0) and not standards["high_security_findings"].is_met(1)
    assert standards["uptime"].is_met(99.9) and not standards["uptime"].is_met(99.89)
    assert standards["blocking_issue_age"].is_met(4) and not standards["blocking_issue_age"].is_met(4.1)
    labels = [s.threshold.label for s in MVP_QUALITY_STANDARDS if s.threshold]
    assert labels == ["≥ 95%", "< 2 s", "none", "≥ 99.9%", "≤ 4 hours"]
    assert quality_standards("mvp") == MVP_QUALITY_STANDARDS


@pytest.mark.parametrize(
    ("service", "own"),
    [
        (
            ServiceCode.MVP,
            ["delivered_in_timeline", "acceptance_criteria_met", "performance_benchmarks_met", "user_acceptance"],
        ),
        (
            ServiceCode.MODERNIZATION,
            ["functional_parity", "performance_improvement", "security_findings_reduction", "disruption_incidents"],
        ),
        (
            ServiceCode.AUGMENTATION,
            ["velocity_improvement", "quality_kept", "team_integration", "stakeholder_satisfaction"],
        ),
    ],
)
def test_it_lists_the_guarantee_conditions_of_each_service(service: ServiceCode, own: list[str]) -> None:
    codes = [c.code for c in guarantee_conditions(service)]
    assert codes == ["metrics_improved", "quality_standards_kept", "timeline_adherence", "customer_satisfaction", *own]


def test_it_measures_the_numeric_guarantee_conditions() -> None:
    mvp = {c.code: c for c in guarantee_conditions("mvp")}
    modernization = {c.code: c for c in guarantee_conditions("modernization")}
    augmentation = {c.code: c for c in guarantee_conditions("augmentation")}
    assert mvp["customer_satisfaction"].is_met(8) and not mvp["customer_satisfaction"].is_met(7.9)
    assert mvp["user_acceptance"].is_met(90) and not mvp["user_acceptance"].is_met(89)
    assert modernization["performance_improvement"].is_met(20) and not modernization["performance_improvement"].is_met(
        19
    )
    assert modernization["security_findings_reduction"].is_met(90)
    assert modernization["disruption_incidents"].is_met(0) and not modernization["disruption_incidents"].is_met(1)
    assert augmentation["velocity_improvement"].is_met(40) and not augmentation["velocity_improvement"].is_met(39)
    assert augmentation["stakeholder_satisfaction"].threshold is not None
    assert augmentation["stakeholder_satisfaction"].threshold.label == "≥ 8/10"
    with pytest.raises(ValueError, match="judged"):
        augmentation["team_integration"].is_met(1)
    assert (GUARANTEE_DAYS, GUARANTEE_REFUND_PERCENT) == (30, 100)
