import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_objects_for_user
from stdnum import ean

from accounts.models import Budget, CostCentre, Membership, Organisation, Site, User
from segments.models import Segment, SegmentCondition, SegmentMembership
from segments.resolver import Workflow, resolve
from storefront.demo import DEMO_PASSWORD, load_demo_world
from storefront.demo.accounts import current_financial_year, demo_gln
from storefront.demo.organisations import ORGANISATIONS
from storefront.demo.people import PEOPLE
from territories.lookup import region_for_area

pytestmark = pytest.mark.django_db

DEMO_LOGINS = [
    "nhs.buyer@demo.test", "nhs.approver@demo.test", "nhs.budget@demo.test",
    "nhs.admin@demo.test", "trust2.buyer@demo.test", "clinic.buyer@demo.test",
    "distributor.north@demo.test", "distributor.south@demo.test", "multi@demo.test",
    "patient@demo.test", "carer@demo.test", "manager@demo.test", "admin@demo.test",
]

RIVERSIDE_SEGMENTS = {"nhs-trusts", "tier-a", "north-thames-ics", "framework-pilot"}

# email: (organisation key, roles, workflow, territory, segments)
PERSONAS = {
    "nhs.buyer@demo.test": (
        "riverside", {"requisitioner"}, Workflow.INSTITUTIONAL, "london", RIVERSIDE_SEGMENTS
    ),
    "nhs.approver@demo.test": (
        "riverside", {"approver"}, Workflow.INSTITUTIONAL, "london", RIVERSIDE_SEGMENTS
    ),
    "nhs.budget@demo.test": (
        "riverside", {"budget_holder"}, Workflow.INSTITUTIONAL, "london", RIVERSIDE_SEGMENTS
    ),
    "nhs.admin@demo.test": (
        "riverside", {"org_admin"}, Workflow.INSTITUTIONAL, "london", RIVERSIDE_SEGMENTS
    ),
    "trust2.buyer@demo.test": (
        "northgate", {"buyer"}, Workflow.INSTITUTIONAL, "north-east-and-yorkshire",
        {"nhs-trusts"},
    ),
    "clinic.buyer@demo.test": (
        "harbour", {"buyer"}, Workflow.INSTITUTIONAL, "south-west", {"private-clinics"}
    ),
    "distributor.north@demo.test": (
        "pennine", {"buyer"}, Workflow.DISTRIBUTOR, "north-west", {"distributors", "tier-a"}
    ),
    "distributor.south@demo.test": (
        "solent", {"buyer"}, Workflow.DISTRIBUTOR, "south-east", {"distributors"}
    ),
    "multi@demo.test": (
        "riverside", {"buyer"}, Workflow.INSTITUTIONAL, "london", RIVERSIDE_SEGMENTS
    ),
    "patient@demo.test": (None, set(), Workflow.RETAIL, "london", {"retail-consumers"}),
    "carer@demo.test": (
        None, set(), Workflow.RETAIL, "wales", {"retail-consumers", "consumers-wales"}
    ),
}

ORGANISATION_REGIONS = {
    "riverside": "london",
    "eastbrook": "london",
    "kingsmead": "london",
    "northgate": "north-east-and-yorkshire",
    "harbour": "south-west",
    "pennine": "north-west",
    "solent": "south-east",
    "mercia": "midlands",
}


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """The demo world, loaded once for this module and rolled back after its last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(demo_world):
    return demo_world


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _row_ids() -> dict[str, set]:
    tables = {
        "organisations": Organisation, "sites": Site, "cost_centres": CostCentre,
        "budgets": Budget, "users": User, "memberships": Membership, "segments": Segment,
        "conditions": SegmentCondition, "segment_members": SegmentMembership,
        "object_permissions": UserObjectPermission,
    }
    return {name: set(model.objects.values_list("pk", flat=True)) for name, model in tables.items()}


def test_loading_twice_keeps_the_same_rows(world):
    before = _row_ids()
    riverside_before = Organisation.objects.values().get(pk=world.organisations["riverside"].pk)
    passwords_before = set(User.objects.values_list("email", "password"))

    out = StringIO()
    call_command("load_demo", stdout=out)

    assert _row_ids() == before
    riverside_after = Organisation.objects.values().get(pk=world.organisations["riverside"].pk)
    assert riverside_after == riverside_before
    assert set(User.objects.values_list("email", "password")) == passwords_before
    assert "nhs.buyer@demo.test" in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()


def test_the_command_prints_counts_and_every_login(world):
    out = StringIO()

    call_command("load_demo", stdout=out)

    text = out.getvalue()
    assert f"{Organisation.objects.count()} organisations" in text
    assert f"{Site.objects.count()} sites" in text
    assert all(email in text for email in DEMO_LOGINS)


@pytest.mark.parametrize("email", DEMO_LOGINS)
def test_every_demo_login_signs_in_with_the_demo_password(world, email):
    assert authenticate(None, email=email, password=DEMO_PASSWORD) == _user(email)
    assert authenticate(None, email=email, password="wrong-password") is None


@pytest.mark.parametrize("email", sorted(PERSONAS))
def test_each_persona_resolves_to_the_expected_context(world, email):
    organisation, roles, workflow, territory, segments = PERSONAS[email]

    buyer = resolve(_user(email))

    expected_id = world.organisations[organisation].pk if organisation else None
    computed = set(Segment.objects.filter(kind="computed").values_list("code", flat=True))
    assert buyer.organisation_id == expected_id
    assert buyer.roles == roles
    assert buyer.workflow == workflow
    assert buyer.territory == territory
    assert buyer.segments - computed == segments


def test_the_approver_may_approve_up_to_five_thousand_pounds(world):
    assert resolve(_user("nhs.approver@demo.test")).approval_limit == Decimal("5000.00")
    assert resolve(_user("nhs.buyer@demo.test")).approval_limit is None


def test_multi_sees_riverside_by_default_and_harbour_when_chosen_never_both(world):
    multi = _user("multi@demo.test")
    riverside, harbour = world.organisations["riverside"], world.organisations["harbour"]

    default = resolve(multi)
    at_harbour = resolve(multi, organisation=harbour)

    assert default.organisation_id == riverside.pk
    assert at_harbour.organisation_id == harbour.pk
    assert at_harbour.territory == "south-west"
    computed = set(Segment.objects.filter(kind="computed").values_list("code", flat=True))
    assert at_harbour.segments - computed == {"private-clinics"}
    assert {pk for pk, _name in default.organisations} == {riverside.pk, harbour.pk}
    assert at_harbour.site_id in set(harbour.sites.values_list("pk", flat=True))
    assert default.cache_key != at_harbour.cache_key


def test_cache_keys_differ_exactly_where_the_facts_differ(world):
    contexts = [resolve(_user(email)) for email in PERSONAS]
    contexts.append(resolve(_user("multi@demo.test"), organisation=world.organisations["harbour"]))

    facts = {
        (b.organisation_id, b.workflow, b.postcode_area, b.territory, b.segments, b.professional)
        for b in contexts
    }
    keys = {b.cache_key for b in contexts}
    pairs = {
        (b.organisation_id, b.workflow, b.postcode_area, b.territory, b.segments, b.professional,
         b.cache_key)
        for b in contexts
    }

    assert len(keys) == len(facts) == len(pairs)
    patient, carer = resolve(_user("patient@demo.test")), resolve(_user("carer@demo.test"))
    assert patient.cache_key != carer.cache_key
    assert (
        resolve(_user("distributor.north@demo.test")).cache_key
        != resolve(_user("distributor.south@demo.test")).cache_key
    )


def test_the_ics_has_three_trusts_and_northgate_sits_under_west_yorkshire(world):
    ics = world.organisations["north-thames-ics"]

    assert ics.kind == "ics"
    assert set(ics.children.values_list("kind", flat=True)) == {"nhs_trust"}
    assert ics.children.count() == 3
    assert world.organisations["northgate"].parent == world.organisations["west-yorkshire-ics"]
    riverside = world.organisations["riverside"]
    assert (riverside.customer_tier, riverside.size_band) == ("A", "enterprise")
    assert riverside.professional_status == "verified"


def test_each_trust_has_wards_theatres_and_stores(world):
    for key in ("riverside", "eastbrook", "kingsmead", "northgate"):
        kinds = list(world.organisations[key].sites.values_list("kind", flat=True))

        assert kinds.count("ward") >= 2, key
        assert "theatre" in kinds and "stores" in kinds, key


def test_sites_and_organisations_lie_in_their_region(world):
    for key, region in ORGANISATION_REGIONS.items():
        organisation = world.organisations[key]
        site_areas = organisation.sites.values_list("postcode_area", flat=True)
        areas = {organisation.postcode_area, *site_areas}

        assert {region_for_area(area).code for area in areas} == {region}, key


def test_there_are_three_clinics_and_three_distributors_with_warehouses(world):
    named = Organisation.objects.filter(name__in=[spec.name for spec in ORGANISATIONS])
    clinics = named.filter(kind="private_clinic")
    distributors = Organisation.objects.filter(kind="distributor")

    assert clinics.count() == 3
    assert distributors.count() == 3
    assert clinics.filter(parent__kind="clinic_group").count() == 2
    for distributor in distributors:
        assert distributor.sites.filter(kind="warehouse").exists(), distributor.name


def test_every_gln_is_unique_and_has_a_valid_check_digit(world):
    glns = [
        *Organisation.objects.exclude(gln="").values_list("gln", flat=True),
        *Site.objects.values_list("gln", flat=True),
    ]

    assert all(ean.is_valid(gln) and len(gln) == 13 and gln.startswith("50") for gln in glns)
    assert len(glns) == len(set(glns)) == Organisation.objects.count() + Site.objects.count()


def test_every_cost_centre_has_a_budget_for_this_financial_year(world):
    start, end = current_financial_year(datetime.date.today())

    for cost_centre in CostCentre.objects.all():
        budget = cost_centre.budgets.get()
        assert (budget.period_start, budget.period_end) == (start, end)
        assert budget.amount > 0


def test_the_financial_year_runs_from_april_to_march():
    assert current_financial_year(datetime.date(2026, 3, 31)) == (
        datetime.date(2025, 4, 1), datetime.date(2026, 3, 31)
    )
    assert current_financial_year(datetime.date(2026, 4, 1)) == (
        datetime.date(2026, 4, 1), datetime.date(2027, 3, 31)
    )


def test_demo_glns_carry_their_check_digit():
    assert demo_gln(2, 0) == "5060990200007"
    assert ean.is_valid(demo_gln(13, 7))


def test_there_are_five_named_retail_consumers_one_in_wales(world):
    consumers = User.objects.filter(
        is_staff=False, memberships__isnull=True, email__in=[p.email for p in PEOPLE]
    )

    assert consumers.count() == 5
    assert {region_for_area(u.postcode_area).code for u in consumers} >= {"london", "wales"}
    assert [u.email for u in consumers if region_for_area(u.postcode_area).code == "wales"] == [
        "carer@demo.test"
    ]


def test_the_account_manager_manages_riverside_harbour_and_pennine_only(world):
    manager = _user("manager@demo.test")
    organisations = world.organisations

    managed = get_objects_for_user(
        manager, "accounts.change_organisation", klass=Organisation, accept_global_perms=False
    )

    expected = {organisations[key] for key in ("riverside", "harbour", "pennine")}
    assert set(managed) == expected
    assert manager.is_staff and not manager.is_superuser
    assert not manager.has_perm("accounts.change_organisation")
    assert manager.has_perm("accounts.view_site") and manager.has_perm("accounts.change_membership")
    assert manager.has_perm("accounts.change_organisation", organisations["riverside"])
    assert not manager.has_perm("accounts.change_organisation", organisations["northgate"])


def test_every_other_organisation_has_the_second_account_manager_or_its_groups_rep(world):
    first, second = _user("manager@demo.test"), _user("manager2@demo.test")

    managers = set(Organisation.objects.values_list("account_manager", flat=True))
    unmanaged = Organisation.objects.filter(account_manager__isnull=True)

    assert managers == {first.pk, second.pk, None}
    assert unmanaged.exists()
    assert not unmanaged.filter(coverage__account_manager__isnull=True).exists()


def test_the_org_admin_manages_riverside_only(world):
    admin = _user("nhs.admin@demo.test")

    assert admin.has_perm("accounts.manage_organisation", world.organisations["riverside"])
    assert not admin.has_perm("accounts.manage_organisation", world.organisations["northgate"])
    assert not _user("nhs.buyer@demo.test").has_perm(
        "accounts.manage_organisation", world.organisations["riverside"]
    )


def test_admin_is_a_superuser_and_a_clinic_user_holds_a_verified_registration(world):
    assert _user("admin@demo.test").is_superuser
    physio = _user("physio@demo.test")
    assert physio.is_registered_professional and physio.regulator == "hcpc"
