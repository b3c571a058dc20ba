"""Computed segments in the admin: their basis validated at the field, their members, movements
and runs shown read-only, the recompute button by permission, the "explain this buyer" page; and a
computed segment never reaching a catalogue or a non-promotion price, however it was assigned."""
import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from catalog.models import Catalog
from catalog.selectors import visible_products
from pricing.engine import prices_for
from pricing.models import PriceList, PriceListItem, PriceListKind
from segments.models import (
    Audience,
    ComputedBasis,
    ComputedMembership,
    RunStatus,
    Segment,
    SegmentKind,
    SegmentMovement,
    SegmentRun,
)
from segments.resolver import resolve
from tests.admin.forms import empty_inlines, post_data
from tests.catalog.factories import CatalogFactory, CategoryFactory, ProductFactory
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.factories.segment_runs import (
    buyer_facts,
    cluster,
    computed_segment,
    propensity,
    propensity_model,
)

pytestmark = pytest.mark.django_db

SEGMENT_INLINES = ("conditions", "members")


@pytest.fixture
def superuser():
    return UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True)


@pytest.fixture
def signed_in(client, superuser):
    client.force_login(superuser)
    return client


def _segment_data(**overrides) -> dict:
    return {"code": "new-segment", "name": "New segment", "kind": "computed",
            "audience": "organisations", "description": "", "is_active": "on", "basis": "",
            "basis_value": "", **empty_inlines(*SEGMENT_INLINES), **overrides}


def _days_ago(days: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def _member(segment, organisation, inputs=None, **extra):
    return ComputedMembership.objects.create(
        segment=segment, organisation=organisation, inputs=inputs or {"lapsed": True},
        computed_at=extra.pop("computed_at", timezone.now()), **extra,
    )


# The basis of a computed segment, checked at its field ----------------------------------------

@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({}, "basis", "Choose which analysis fills"),
        ({"basis": "rfm_group", "basis_value": "superstars"}, "basis_value", "RFM groups"),
        ({"basis": "value_tier", "basis_value": "gold"}, "basis_value", "one of the tiers"),
        ({"basis": "margin_tier", "basis_value": ""}, "basis_value", "one of the tiers"),
        ({"basis": "lapsed", "basis_value": "90"}, "basis_value", "takes no value"),
        ({"basis": "cluster", "basis_value": "7"}, "basis_value", "current ones are 0"),
        ({"basis": "cluster", "basis_value": "large"}, "basis_value", "has number large"),
        ({"basis": "cluster", "basis_value": "0", "audience": "consumers"}, "basis_value",
         "none exists yet"),
        ({"basis": "propensity", "basis_value": "999999 0.5"}, "basis_value", "No category"),
        ({"basis": "propensity", "basis_value": "{category} 1.5"}, "basis_value", "above 0"),
        ({"basis": "propensity", "basis_value": "{category} 0"}, "basis_value", "above 0"),
        ({"basis": "propensity", "basis_value": "{category}"}, "basis_value", "above 0"),
        ({"kind": "static", "basis": "lapsed"}, "basis", "Only computed segments"),
        ({"kind": "rule", "basis_value": "champions"}, "basis_value", "Only computed segments"),
        ({"basis": "vibes", "basis_value": ""}, "basis", "Select a valid choice"),
    ],
)
def test_a_bad_basis_is_refused_at_its_field_and_nothing_is_saved(
    signed_in, overrides, field, message
):
    cluster(0, "Large regular trusts")
    category = CategoryFactory()
    overrides = {k: v.format(category=category.pk) for k, v in overrides.items()}

    response = signed_in.post(reverse("admin:segments_segment_add"), _segment_data(**overrides))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    assert not Segment.objects.filter(code="new-segment").exists()


@pytest.mark.parametrize(
    ("basis", "value"),
    [("rfm_group", "champions"), ("value_tier", "concierge"), ("margin_tier", "self_service"),
     ("lapsed", ""), ("cluster", "0"), ("propensity", "{category} 0.6"),
     ("propensity", "{category} 1")],
)
def test_a_valid_basis_is_saved(signed_in, basis, value):
    cluster(0, "Large regular trusts")
    category = CategoryFactory()

    response = signed_in.post(reverse("admin:segments_segment_add"), _segment_data(
        basis=basis, basis_value=value.format(category=category.pk)
    ))

    assert response.status_code == 302
    saved = Segment.objects.get(code="new-segment")
    assert (saved.kind, saved.basis) == (SegmentKind.COMPUTED, basis)


def test_the_change_page_of_a_static_segment_has_no_basis(signed_in):
    static = Segment.objects.create(code="framework", name="Framework", kind="static")

    form = signed_in.get(reverse("admin:segments_segment_change", args=[static.pk])).context[
        "adminform"].form

    assert "basis" not in form.fields and "basis_value" not in form.fields


# Members, movements and runs, read-only -----------------------------------------------------------

def test_a_computed_segment_shows_its_first_members_read_only_with_a_link_to_all(signed_in):
    lapsed = computed_segment("lapsed-consumers", ComputedBasis.LAPSED,
                              audience=Audience.CONSUMERS)
    users = User.objects.bulk_create(
        [User(email=f"lapsed{i}@demo.test", full_name=f"Lapsed {i}") for i in range(60)]
    )
    now = timezone.now()
    ComputedMembership.objects.bulk_create([
        ComputedMembership(segment=lapsed, user=u, computed_at=now,
                           inputs={"lapsed": True, "last_order_on": _days_ago(100 + i),
                                   "cadence_days": 30.0, "orders_total": 4})
        for i, u in enumerate(users)
    ])
    url = reverse("admin:segments_segment_change", args=[lapsed.pk])

    page = signed_in.get(url)

    assert page.status_code == 200
    formset = page.context["inline_admin_formsets"][0].formset
    assert formset.model is ComputedMembership
    assert len(formset.forms) == 50
    content = page.content.decode()
    assert "60 members." in content
    see_all = reverse("admin:segments_computedmembership_changelist")
    assert f'{see_all}?segment__id__exact={lapsed.pk}' in content
    assert "Lapsed: last order 100 days ago (" in content
    assert "), usually 30 days between orders (4 orders in all)" in content
    assert 'name="computed_members-0-inputs"' not in content  # nothing to edit

    data = post_data(page)
    data["name"] = "Lapsed consumers (renamed)"
    saved = signed_in.post(url, data)

    assert saved.status_code == 302
    assert ComputedMembership.objects.filter(segment=lapsed).count() == 60


def test_the_member_list_is_filtered_by_segment_and_cannot_be_edited(signed_in):
    lapsed = computed_segment("lapsed", ComputedBasis.LAPSED)
    concierge = computed_segment("concierge", ComputedBasis.VALUE_TIER, "concierge")
    quiet, big = OrganisationFactory(name="Quiet Clinic"), OrganisationFactory(name="Big Trust")
    _member(lapsed, quiet)
    member = _member(concierge, big, {"value_tier": "concierge", "revenue_12m": "90000.00"})
    changelist = reverse("admin:segments_computedmembership_changelist")

    page = signed_in.get(changelist, {"segment__id__exact": concierge.pk})
    edit = signed_in.post(reverse("admin:segments_computedmembership_change", args=[member.pk]),
                          {"inputs": "{}"})

    assert page.status_code == 200
    assert [row.organisation for row in page.context["cl"].result_list] == [big]
    assert "Value tier: Concierge (top 20% by revenue), £90,000.00" in page.content.decode()
    assert edit.status_code == 403
    member.refresh_from_db()
    assert member.inputs == {"value_tier": "concierge", "revenue_12m": "90000.00"}


def test_movements_are_listed_by_segment_direction_and_date(signed_in):
    lapsed = computed_segment("lapsed", ComputedBasis.LAPSED)
    trust, clinic = OrganisationFactory(name="Riverside"), OrganisationFactory(name="Harbour")
    now = timezone.now()
    SegmentMovement.objects.create(segment=lapsed, organisation=trust, direction="entered",
                                   at=now, inputs={"lapsed": True})
    SegmentMovement.objects.create(segment=lapsed, organisation=clinic, direction="exited",
                                   at=now - datetime.timedelta(days=40), inputs={})
    changelist = reverse("admin:segments_segmentmovement_changelist")

    exits = signed_in.get(changelist, {"segment__id__exact": lapsed.pk, "direction": "exited"})
    recent = signed_in.get(changelist, {"at__gte": (now - datetime.timedelta(days=7)).date()})

    assert [m.organisation for m in exits.context["cl"].result_list] == [clinic]
    assert [m.organisation for m in recent.context["cl"].result_list] == [trust]


def test_a_running_run_refreshes_itself_and_a_finished_one_does_not(signed_in):
    running = SegmentRun.objects.create(phase="clusters", progress=60)
    done = SegmentRun.objects.create(
        status=RunStatus.DONE, phase="done", progress=100, finished_at=timezone.now(),
        timings={"facts": 1.25, "memberships": 0.5}, counts={"memberships": {"entered": 4}},
    )

    live = signed_in.get(reverse("admin:segments_segmentrun_change", args=[running.pk]))
    finished = signed_in.get(reverse("admin:segments_segmentrun_change", args=[done.pk]))
    listed = signed_in.get(reverse("admin:segments_segmentrun_changelist"))

    assert b'<meta http-equiv="refresh" content="2">' in live.content
    assert b'<progress value="60" max="100">' in live.content
    assert b"refresh" not in finished.content.split(b"</head>")[0]
    assert b"1.250" in finished.content and b"entered 4" in finished.content
    assert b"facts 1.25, memberships 0.50" in listed.content
    assert b"Full recompute now" in listed.content


# Starting a recompute: who may ------------------------------------------------------------------

def _who(name: str):
    if name == "anonymous":
        return None
    if name == "customer":
        user = UserFactory(email="buyer@demo.test")
        user.user_permissions.add(Permission.objects.get(codename="recompute_segments"))
        return user
    if name == "staff without the permission":
        return UserFactory(email="staff@demo.test", is_staff=True)
    if name == "staff with the permission":
        user = UserFactory(email="analyst@demo.test", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="recompute_segments"))
        return user
    return UserFactory(email="root@demo.test", is_staff=True, is_superuser=True)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", "login"),
        ("customer", "login"),
        ("staff without the permission", 403),
        ("staff with the permission", "run"),
        ("superuser", "run"),
    ],
)
@pytest.mark.parametrize("full", ["0", "1"])
def test_who_may_start_a_recompute(client, who, expected, full):
    user = _who(who)
    if user is not None:
        client.force_login(user)

    response = client.post(reverse("admin:segments_segmentrun_recompute"), {"full": full})

    if expected == "run":
        run = SegmentRun.objects.get()
        assert response.status_code == 302
        assert response.url == reverse("admin:segments_segmentrun_change", args=[run.pk])
        assert (run.status, run.full, run.requested_by) == (RunStatus.DONE, full == "1", user)
        return
    assert not SegmentRun.objects.exists()
    if expected == "login":
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    else:
        assert response.status_code == expected


def test_a_recompute_is_started_by_post_only_and_not_while_another_runs(signed_in):
    url = reverse("admin:segments_segmentrun_recompute")
    assert signed_in.get(url).status_code == 405
    assert not SegmentRun.objects.exists()
    running = SegmentRun.objects.create(phase="scores", progress=20)

    response = signed_in.post(url, {"full": "1"}, follow=True)

    assert list(SegmentRun.objects.all()) == [running]
    assert "already running" in response.content.decode()


def test_staff_without_the_permission_see_no_recompute_button(client):
    viewer = UserFactory(email="viewer@demo.test", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_segmentrun"))
    client.force_login(viewer)

    page = client.get(reverse("admin:segments_segmentrun_changelist"))

    assert page.status_code == 200
    assert b"Recompute now" not in page.content


# Catalogues and prices are never reached through a computed segment -------------------------

@pytest.fixture
def shop():
    """A product, listed at £10.00, in a catalogue of a clinic; the clinic in a computed segment."""
    clinic = OrganisationFactory(name="Harbour Physiotherapy", kind="private_clinic",
                                 professional_status="verified")
    buyer = MembershipFactory(organisation=clinic).user
    product, hidden = ProductFactory(), ProductFactory()
    CatalogFactory(code="clinic-range", organisations=[clinic], products=[product])
    base = PriceList(code="list", name="List", kind=PriceListKind.LIST)
    base.full_clean()
    base.save()
    for item in (product, hidden):
        PriceListItem.objects.create(price_list=base, product=item, unit_price=Decimal("10.00"))
    segment = computed_segment("champions", ComputedBasis.RFM_GROUP, "champions")
    _member(segment, clinic, {"rfm_group": "champions"})
    return {"buyer": buyer, "product": product, "hidden": hidden, "segment": segment}


def test_a_computed_segment_is_refused_on_a_catalogue_in_the_admin(signed_in, shop):
    response = signed_in.post(reverse("admin:catalog_catalog_add"), {
        "name": "Champions' range", "code": "champions-range", "is_active": "on",
        "products": [shop["hidden"].pk], "segments": [shop["segment"].pk],
    })

    assert response.status_code == 200
    assert "computed segment cannot be given a catalogue" in " ".join(
        response.context["adminform"].form.errors["segments"]
    )
    assert not Catalog.objects.filter(code="champions-range").exists()


@pytest.mark.parametrize(("kind", "saved"), [("segment", False), ("promotion", True)])
def test_a_computed_segment_is_refused_on_a_segment_price_list_but_not_a_promotion(
    signed_in, shop, kind, saved
):
    response = signed_in.post(reverse("admin:pricing_pricelist_add"), {
        "code": "champions-prices", "name": "Champions", "currency": "GBP", "kind": kind,
        "priority": "0", "is_active": "on", "segments": [shop["segment"].pk], "note": "",
        **empty_inlines("items"),
    })

    created = PriceList.objects.filter(code="champions-prices").first()
    if saved:
        assert response.status_code == 302
        assert list(created.segments.all()) == [shop["segment"]]
    else:
        assert response.status_code == 200
        assert "computed segment cannot be given a segment price list" in " ".join(
            response.context["adminform"].form.errors["segments"]
        )
        assert created is None


def test_a_computed_segment_grants_no_catalogue_or_segment_price_even_if_assigned_in_the_orm(shop):
    segment = shop["segment"]
    champions_only = CatalogFactory(code="champions-only", products=[shop["hidden"]])
    champions_only.segments.add(segment)  # past the service that would refuse it
    special = PriceList.objects.create(code="champions-net", name="Champions",
                                       kind=PriceListKind.SEGMENT)
    special.segments.add(segment)
    PriceListItem.objects.create(price_list=special, product=shop["product"],
                                 unit_price=Decimal("6.00"))
    buyer = resolve(shop["buyer"])

    visible = set(visible_products(buyer))
    prices = prices_for(buyer, [shop["product"]], 1)

    assert "champions" in buyer.segments
    assert visible == {shop["product"]}
    assert prices[shop["product"].pk].unit_price == Decimal("10.00")


def test_a_promotion_for_a_computed_segment_applies(shop):
    promotion = PriceList.objects.create(code="champions-promo", name="Champions' offer",
                                         kind=PriceListKind.PROMOTION)
    promotion.segments.add(shop["segment"])
    PriceListItem.objects.create(price_list=promotion, product=shop["product"],
                                 unit_price=Decimal("8.00"))

    prices = prices_for(resolve(shop["buyer"]), [shop["product"]], 1)

    assert prices[shop["product"].pk].unit_price == Decimal("8.00")


# Explain this buyer ----------------------------------------------------------------------------

def _explained_buyer(memberships: int, scores: int):
    trust = OrganisationFactory(name=f"Explained Trust {memberships}-{scores}")
    user = MembershipFactory(organisation=trust).user
    large = cluster(memberships, f"Large regular trusts {memberships}")
    buyer_facts(organisation=trust, recency_score=5, frequency_score=4, monetary_score=3,
                rfm_group="champions", value_tier="concierge", cluster=large,
                days_since_last_order=3)
    segments = [
        computed_segment(f"champions-{memberships}-{i}", ComputedBasis.RFM_GROUP, "champions")
        for i in range(memberships)
    ]
    for segment in segments:
        _member(segment, trust, {"rfm_group": "champions", "recency_score": 5,
                                 "last_order_on": _days_ago(3), "frequency_score": 4,
                                 "orders_12m": 14, "monetary_score": 3,
                                 "revenue_12m": "12500.00"})
    model = propensity_model()
    for i in range(scores):
        propensity(model, CategoryFactory(name=f"Category {i}"), round(0.9 - i / 10, 2),
                   organisation=trust)
    return user


def test_explain_shows_computed_inputs_in_words_and_the_analysis(signed_in):
    user = _explained_buyer(memberships=1, scores=6)

    page = signed_in.get(reverse("admin:accounts_user_explain", args=[user.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    for words in ("R 5: last order 3 days ago", "F 4: 14 orders in the last 12 months",
                  "M 3: £12,500.00 in the last 12 months", "RFM group: Champions",
                  "R 5 · F 4 · M 3", "Concierge (top 20% by revenue)", "Large regular trusts 1",
                  "Category 0: 90%", "Category 4: 50%"):
        assert words in content, words
    assert "Category 5" not in content  # the top five only
    assert "Computed " in content


def test_explain_reads_a_bounded_number_of_queries(signed_in):
    few, many = _explained_buyer(memberships=1, scores=1), _explained_buyer(memberships=4,
                                                                             scores=6)
    counts = []
    for user in (few, many, few, many):
        with CaptureQueriesContext(connection) as queries:
            signed_in.get(reverse("admin:accounts_user_explain", args=[user.pk]))
        counts.append(len(queries))

    assert counts[2] == counts[3], counts


def test_explain_before_any_analysis_says_so(signed_in):
    user = MembershipFactory(organisation=OrganisationFactory()).user

    page = signed_in.get(reverse("admin:accounts_user_explain", args=[user.pk]))

    assert page.status_code == 200
    assert "not yet: no recompute has covered this buyer" in page.content.decode()
