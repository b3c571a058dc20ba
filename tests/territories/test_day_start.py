"""A new day can start or end rights: the first call of the day bumps the rules version once."""

from segments.versioning import rules_version
from territories.services import territory_day_start

from .conftest import days


def test_the_rules_version_changes_once_per_day():
    before = rules_version()

    first = territory_day_start(today=days(0))
    after_first = rules_version()
    again = territory_day_start(today=days(0))
    next_day = territory_day_start(today=days(1))

    assert (first, again, next_day) == (True, False, True)
    assert after_first != before
    assert rules_version() != after_first
