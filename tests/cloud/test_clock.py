"""The sandbox clock moves forward only, and never past the latest time kmslab can write down."""
import pytest

from kmslab.cloud.clock import LATEST, Clock, ClockLimitError, iso

from tests.conftest import T0


def test_the_clock_moves_up_to_the_latest_time_and_no_further(clock):
    clock.advance(LATEST - 86400 - T0)  # a day short

    with pytest.raises(ClockLimitError) as refused:
        clock.advance(2 * 86400)

    assert str(refused.value) == (
        "The sandbox clock cannot pass 9990-01-01T00:00:00Z, the latest time kmslab can represent: "
        "from 9989-12-31T00:00:00Z it can move ahead at most 1d."
    )
    assert clock.now() == LATEST - 86400
    clock.advance(86400)
    assert iso(clock.now()) == "9990-01-01T00:00:00Z"


def test_at_the_latest_time_the_clock_says_it_cannot_move_at_all(clock):
    clock.advance(LATEST - T0)

    with pytest.raises(ClockLimitError, match="it can move ahead no further"):
        clock.advance(60)


def test_a_clock_saved_past_the_latest_time_resumes_at_it():
    # A clock advanced before there was a limit: 3,000,000 days puts it in the year 10240.
    clock = Clock(3_000_000 * 86400, real=lambda: T0)

    assert clock.now() == LATEST
    assert iso(clock.now()) == "9990-01-01T00:00:00Z"


def test_a_clock_at_the_latest_time_still_runs_with_real_time():
    clock = Clock(LATEST - T0 + 3600, real=lambda: T0)  # advanced to the limit an hour of real time ago

    assert clock.now() == LATEST + 3600
