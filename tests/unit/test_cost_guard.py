"""The cost guard in the suite: no stage may cost more than GUARD_FACTOR times its budget,
measured as CPU per item over a csv.reader row timed alongside (boletos_bench/cost_guard.py)."""

from __future__ import annotations

import pytest

from boletos_bench.cost_guard import GUARD_FACTOR, STAGES, Stage, budgets, measure


def test_every_stage_has_a_budget() -> None:
    assert set(budgets()) == {s.name for s in STAGES}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_no_stage_costs_more_than_its_budget_allows(stage: Stage) -> None:
    budget = budgets()[stage.name]
    ratio = measure(stage)
    assert ratio <= budget * GUARD_FACTOR, (
        f"{stage.name} costs {ratio:.2f} csv.reader rows per item, over {GUARD_FACTOR} times "
        f"its budget of {budget}: find what made it slower, or, if the cost is earned, record "
        "new budgets with `python -m boletos_bench.cost_guard --write` in the same commit"
    )
