"""Providers by name: ``builtin`` (the default, offline), ``llm`` (a model through the Anthropic or
an OpenAI-compatible API) and ``noop`` (benchmarks).

Further providers (test doubles) register themselves with ``provider_register``.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.providers.base import JobCancelled, JobContext, JobFailed, JobSpec, Outcome, Provider, Usage
from agents.providers.builtin import BuiltinProvider
from agents.providers.noop import NoopProvider

DEFAULT_PROVIDER = "builtin"


def _llm() -> Provider:
    # Imported on first use: the two SDKs take about two seconds to import.
    from agents.providers.llm import LlmProvider

    return LlmProvider()


_FACTORIES: dict[str, Callable[[], Provider]] = {"builtin": BuiltinProvider, "llm": _llm, "noop": NoopProvider}


class UnknownProvider(LookupError):
    pass


def provider_register(name: str, factory: Callable[[], Provider]) -> None:
    _FACTORIES[name] = factory


def provider_get(name: str) -> Provider:
    try:
        return _FACTORIES[name or DEFAULT_PROVIDER]()
    except KeyError:
        raise UnknownProvider(f"no provider named {name!r}") from None


__all__ = [
    "DEFAULT_PROVIDER",
    "JobCancelled",
    "JobContext",
    "JobFailed",
    "JobSpec",
    "Outcome",
    "Provider",
    "UnknownProvider",
    "Usage",
    "provider_get",
    "provider_register",
]
