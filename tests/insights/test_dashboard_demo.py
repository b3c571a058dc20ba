"""Over the demo world, the superuser and the demo's account manager (through the Account
managers group) open every page variant the benchmark times."""

import pytest
from django.urls import reverse

from accounts.models import User
from insights.urls import BENCH_PAGES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("email", ["admin@demo.test", "manager@demo.test"])
def test_the_demo_staff_open_every_dashboard_page(client, demo_world, email):
    client.force_login(User.objects.get(email=email))

    answers = {
        (name, str(query)): client.get(
            reverse(name, kwargs=kwargs() if callable(kwargs) else kwargs), query
        ).status_code
        for name, kwargs, query in BENCH_PAGES if "monitor" not in name
    }

    assert set(answers.values()) == {200}, answers
