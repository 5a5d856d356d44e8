"""The money and token budget of a project's model calls, and the price of a call.

A project's budget covers every model call made for it, across runs: the caller hands in what the
project has already spent (``spent_tokens``/``spent_cost``) and the budget adds this run's calls to
it, from the token counts the API itself returned. Cost is priced per 1,000 input and output
tokens (the deployment's prices; a project may carry its own). A limit of 0 means "no limit" on
that dimension, so a deployment can cap only money or only tokens.

The budget is checked *before* each call: it stops the loop when the budget is already used up
(the previous call went over) and when the next call would certainly go over. The next prompt
resends the whole conversation, so it costs at least the previous prompt plus the previous reply
as input tokens; that floor is what is compared against the limits, which never stops a call that
might still fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

_CENT_FRACTION = Decimal("0.000001")  # costs are kept to a millionth of the currency unit


@dataclass(frozen=True, slots=True)
class Prices:
    input_per_1k: Decimal
    output_per_1k: Decimal

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        raw = (Decimal(input_tokens) * self.input_per_1k + Decimal(output_tokens) * self.output_per_1k) / 1000
        return raw.quantize(_CENT_FRACTION, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Budget:
    limit_tokens: int
    limit_cost: Decimal
    prices: Prices
    spent_tokens: int = 0  # by earlier runs of the same project
    spent_cost: Decimal = Decimal("0")
    input_tokens: int = 0  # by this run
    output_tokens: int = 0
    calls: int = 0
    _next_floor: int = 0  # the least the next call can cost, in input tokens

    @property
    def run_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def run_cost(self) -> Decimal:
        return self.prices.cost(self.input_tokens, self.output_tokens)

    @property
    def total_tokens(self) -> int:
        return self.spent_tokens + self.run_tokens

    @property
    def total_cost(self) -> Decimal:
        return self.spent_cost + self.run_cost

    def charge(self, input_tokens: int, output_tokens: int) -> None:
        """Add one call's usage as the API reported it."""
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.calls += 1
        self._next_floor = input_tokens + output_tokens

    def stop_reason(self) -> str | None:
        """Why the next call may not be made, or None while the budget allows it."""
        tokens, cost = self.total_tokens, self.total_cost
        if self.limit_tokens and tokens >= self.limit_tokens:
            return f"token budget used up: {tokens:,} of {self.limit_tokens:,} tokens spent"
        if self.limit_cost and cost >= self.limit_cost:
            return f"money budget used up: {cost:.4f} of {self.limit_cost:.2f} spent"
        floor_tokens, floor_cost = tokens + self._next_floor, cost + self.prices.cost(self._next_floor, 0)
        if self.limit_tokens and floor_tokens > self.limit_tokens:
            return (
                f"the next call would exceed the token budget: at least {floor_tokens:,} "
                f"of {self.limit_tokens:,} tokens ({tokens:,} spent)"
            )
        if self.limit_cost and floor_cost > self.limit_cost:
            return (
                f"the next call would exceed the money budget: at least {floor_cost:.4f} "
                f"of {self.limit_cost:.2f} ({cost:.4f} spent)"
            )
        return None
