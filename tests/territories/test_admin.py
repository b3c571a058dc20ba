"""Territory admin: account managers see the rights of their own distributors only; the matrix and
the conflict list show who holds what; the add form refuses an overlapping exclusive right."""

import pytest
from django.urls import reverse

from territories.models import TerritoryRight
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.factories import UserFactory

from .conftest import days, distributor, grant, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "admin": UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True),
        "manager": UserFactory(email="manager@demo.test", is_staff=True),
        "manager2": UserFactory(email="manager2@demo.test", is_staff=True),
        "buyer": UserFactory(email="buyer@demo.test"),
    }


@pytest.fixture
def rights(people):
    continence = CategoryFactory(name="Continence", slug="continence")
    mobility = CategoryFactory(name="Mobility", slug="mobility")
    wheelchairs = CategoryFactory(name="Wheelchairs", slug="wheelchairs", parent=mobility)
    pennine = distributor("Pennine Medical Supplies", account_manager=people["manager"])
    solent = distributor("Solent Healthcare Distribution", account_manager=people["manager2"])
    return {
        "pennine": grant(pennine, region("north-west"), category=continence),
        "solent": grant(solent, region("london"), category=wheelchairs),
        "solent_old": grant(solent, region("south-east"), category=continence, valid_to=days(-1)),
        "categories": (continence, mobility, wheelchairs),
    }


def _listed(client, url_name="admin:territories_territoryright_changelist", **params):
    response = client.get(reverse(url_name), params)
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def test_superuser_sees_every_right(client, people, rights):
    client.force_login(people["admin"])

    assert _listed(client) == {rights["pennine"].pk, rights["solent"].pk, rights["solent_old"].pk}


def test_account_manager_sees_only_the_rights_of_their_distributors(client, people, rights):
    client.force_login(people["manager"])

    assert _listed(client) == {rights["pennine"].pk}
    other = client.get(
        reverse("admin:territories_territoryright_change", args=[rights["solent"].pk])
    )
    assert other.status_code == 302
    matrix = client.get(reverse("admin:territories_territoryright_matrix"))
    assert b"Pennine Medical Supplies" in matrix.content
    assert b"Solent" not in matrix.content


def test_account_manager_cannot_grant_a_right_to_another_managers_distributor(
    client, people, rights
):
    client.force_login(people["manager"])
    solent_id = rights["solent"].distributor_id
    before = TerritoryRight.objects.count()

    response = client.post(reverse("admin:territories_territoryright_add"), {
        "distributor": solent_id, "territory": region("wales").pk,
        "category": rights["categories"][0].pk, "exclusive": "on",
        "valid_from": days(0).isoformat(),
    })

    assert response.status_code == 200
    assert "distributor" in response.context["adminform"].form.errors
    assert TerritoryRight.objects.count() == before


@pytest.mark.parametrize("who", ["buyer", None])
def test_non_staff_cannot_reach_rights_or_the_matrix(client, people, rights, who):
    if who:
        client.force_login(people[who])

    for name in ("changelist", "matrix", "conflicts"):
        response = client.get(reverse(f"admin:territories_territoryright_{name}"))
        assert response.status_code == 302
        assert "/login/" in response.url


def test_validity_filter(client, people, rights):
    client.force_login(people["admin"])

    assert _listed(client, validity="current") == {rights["pennine"].pk, rights["solent"].pk}
    assert _listed(client, validity="ended") == {rights["solent_old"].pk}


def test_matrix_names_holders_by_territory_and_top_level_category(client, people, rights):
    client.force_login(people["admin"])

    response = client.get(reverse("admin:territories_territoryright_matrix"))

    matrix = response.context["matrix"]
    continence, mobility, _ = rights["categories"]
    cells = dict(matrix.cells)
    assert cells[(region("north-west").pk, continence.pk)].entries == [
        ("Pennine Medical Supplies", True)]
    assert cells[(region("london").pk, mobility.pk)].entries == [
        ("Solent Healthcare Distribution", True)]
    assert (region("south-east").pk, continence.pk) not in cells  # that right has ended
    past = client.get(reverse("admin:territories_territoryright_matrix"),
                      {"day": days(-5).isoformat()})
    assert (region("south-east").pk, continence.pk) in past.context["matrix"].cells


def test_adding_an_overlapping_exclusive_right_shows_the_clash(client, people, rights):
    client.force_login(people["admin"])
    solent_id = rights["solent"].distributor_id

    response = client.post(reverse("admin:territories_territoryright_add"), {
        "distributor": solent_id, "territory": region("north-west").pk,
        "product": ProductFactory(category=rights["categories"][0]).pk, "exclusive": "on",
        "valid_from": days(0).isoformat(),
    })

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "overlaps the exclusive right of Pennine Medical Supplies" in errors


def test_conflict_list_shows_rights_stored_before_validation(client, people, rights):
    client.force_login(people["admin"])
    continence = rights["categories"][0]
    manchester = region("north-west").__class__.objects.create(code="gm", name="Greater Manchester")
    manchester.areas.add("M")
    imported = TerritoryRight.objects.create(
        distributor=rights["solent"].distributor, territory=manchester, category=continence,
        valid_from=days(-3),
    )

    response = client.get(reverse("admin:territories_territoryright_conflicts"))

    conflicts = response.context["conflicts"]
    assert [(c.first.pk, c.second.pk, c.shared_areas) for c in conflicts] == [
        (rights["pennine"].pk, imported.pk, ("M",))]
    client.force_login(people["manager"])
    scoped = client.get(reverse("admin:territories_territoryright_conflicts"))
    assert len(scoped.context["conflicts"]) == 1  # Pennine's side of it is theirs
