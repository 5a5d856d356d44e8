"""The service catalog: every price, tier, quality standard and guarantee condition Agent Hive sells,
one module per concept (``money``, ``terms``, ``mvp``, ``modernization``, ``augmentation``,
``guarantee``); callers use the package's names. The quality thresholds themselves are declared
once in ``tenants.quality`` (re-exported here as ``Comparison`` and ``Threshold``).

This module owns the product rules of the seed (`service-delivery-framework.md`, DESIGN §3) as
typed, frozen data in code, so that scoping, the landing page, quotes and billing all read the
same numbers. It holds no state and touches no database.

Money is integer US cents throughout, because Stripe charges in cents; `format_usd` and
`format_usd_range` turn cents into display strings.

The assessment price of a legacy modernization is the one computed price here
(`assessment_price_cents`, in ``modernization``); its rule is documented on the function.
"""

from billing.catalog.augmentation import (
    AUGMENTATION_PLANS,
    AUGMENTATION_QUALITY_STANDARDS,
    CONTINUOUS_AUGMENTATION,
    PROJECT_AUGMENTATION,
    SPRINT_AUGMENTATION,
    AugmentationPlan,
    AugmentationPlanCode,
    augmentation_plan,
)
from billing.catalog.guarantee import (
    GENERAL_GUARANTEE_CONDITIONS,
    GUARANTEE_DAYS,
    GUARANTEE_REFUND_PERCENT,
    guarantee_conditions,
    quality_standards,
)
from billing.catalog.modernization import (
    ASSESSMENT_PRICE,
    LARGE_SYSTEM,
    MEDIUM_SYSTEM,
    MIGRATION_UPTIME_PERCENT,
    MODERNIZATION_PHASE_GATES,
    PHASE_COUNT,
    PHASE_PRICE,
    PHASE_SHARE_PERCENT,
    PHASE_WARRANTY_MONTHS,
    ROLLBACK_HOURS,
    SIZE_CLASSES,
    SMALL_SYSTEM,
    SizeClass,
    SizeClassCode,
    assessment_price_cents,
    modernization_size_class,
)
from billing.catalog.money import CENTS_PER_DOLLAR, dollars, format_usd, format_usd_compact, format_usd_range
from billing.catalog.mvp import (
    COMPLEX_MVP,
    MVP_MAX_STORIES,
    MVP_QUALITY_STANDARDS,
    MVP_TIERS,
    SIMPLE_MVP,
    STANDARD_MVP,
    HostingTerm,
    MvpTier,
    MvpTierCode,
    SupportKind,
    SupportTerm,
    mvp_tier,
)
from billing.catalog.terms import Criterion, DurationRange, PriceRange, ServiceCode
from tenants.quality import Comparison, Threshold

__all__ = [
    "ASSESSMENT_PRICE",
    "AUGMENTATION_PLANS",
    "AUGMENTATION_QUALITY_STANDARDS",
    "CENTS_PER_DOLLAR",
    "COMPLEX_MVP",
    "CONTINUOUS_AUGMENTATION",
    "GENERAL_GUARANTEE_CONDITIONS",
    "GUARANTEE_DAYS",
    "GUARANTEE_REFUND_PERCENT",
    "LARGE_SYSTEM",
    "MEDIUM_SYSTEM",
    "MIGRATION_UPTIME_PERCENT",
    "MODERNIZATION_PHASE_GATES",
    "MVP_MAX_STORIES",
    "MVP_QUALITY_STANDARDS",
    "MVP_TIERS",
    "PHASE_COUNT",
    "PHASE_PRICE",
    "PHASE_SHARE_PERCENT",
    "PHASE_WARRANTY_MONTHS",
    "PROJECT_AUGMENTATION",
    "ROLLBACK_HOURS",
    "SIMPLE_MVP",
    "SIZE_CLASSES",
    "SMALL_SYSTEM",
    "SPRINT_AUGMENTATION",
    "STANDARD_MVP",
    "AugmentationPlan",
    "AugmentationPlanCode",
    "Comparison",
    "Criterion",
    "DurationRange",
    "HostingTerm",
    "MvpTier",
    "MvpTierCode",
    "PriceRange",
    "ServiceCode",
    "SizeClass",
    "SizeClassCode",
    "SupportKind",
    "SupportTerm",
    "Threshold",
    "assessment_price_cents",
    "augmentation_plan",
    "dollars",
    "format_usd",
    "format_usd_compact",
    "format_usd_range",
    "guarantee_conditions",
    "modernization_size_class",
    "mvp_tier",
    "quality_standards",
]
