"""The guarantees suite's settings and its tally fixture.

Examples: a bounded count by default (CI), and `HYPOTHESIS_PROFILE=thorough` for the long run, the
same switch the other property tests of the project read. Probes are counted in
tests/guarantees/tally.py, which prints the figure at the end of the run."""

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

from .tally import TALLY, Tally

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def examples(ci: int, thorough: int):
    """Hypothesis settings for a probe test: `ci` examples by default, `thorough` in the long run;
    no deadline (a world is built per example), fixtures are set up once per test. No shrinking:
    a failure lists every violation of its world, and shrinking a world costs minutes."""
    return settings(
        max_examples=thorough if THOROUGH else ci, deadline=None, derandomize=not THOROUGH,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large],
    )


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY
