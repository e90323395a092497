from boletos_cli.stack.restarts import (
    EXIT_CONFIG,
    FIRST_DELAY_SECONDS,
    MAX_RESTARTS,
    WINDOW_SECONDS,
    RestartBudget,
)


def test_each_restart_waits_twice_as_long_as_the_one_before() -> None:
    budget = RestartBudget()
    delays = [budget.delay(-9, now=float(t)) for t in range(MAX_RESTARTS)]
    assert delays == [FIRST_DELAY_SECONDS * 2**n for n in range(MAX_RESTARTS)]


def test_a_process_that_keeps_dying_is_given_up_on() -> None:
    budget = RestartBudget()
    for t in range(MAX_RESTARTS):
        assert budget.delay(1, now=float(t)) is not None
    assert budget.delay(1, now=float(MAX_RESTARTS)) is None


def test_crashes_older_than_the_window_are_forgiven() -> None:
    budget = RestartBudget()
    for t in range(MAX_RESTARTS):
        budget.delay(1, now=float(t))
    later = MAX_RESTARTS - 1 + WINDOW_SECONDS + 1
    assert budget.delay(1, now=later) == FIRST_DELAY_SECONDS


def test_a_configuration_refused_is_never_retried() -> None:
    assert RestartBudget().delay(EXIT_CONFIG, now=0.0) is None
