"""Staff edit blocks in admin (errors at their fields, nothing saved), preview the front page as a
buyer, and read each offer's reach: who was shown it and who ordered at its price."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from merchandising.models import BlockKind, ContentBlock
from ordering.models import Order, OrderLine, PaymentMethod
from pricing.models import PriceListKind
from tests.factories import UserFactory
from tests.factories.merchandising import make_block
from tests.pricing.conftest import make_list, price

ADD = reverse("admin:merchandising_contentblock_add")
PREVIEW = reverse("admin:merchandising_contentblock_preview")


def _form(**fields) -> dict:
    data = {"title": "Spring notice", "kind": BlockKind.MESSAGE, "body": "", "is_active": "on",
            "audience": "everyone", "priority": "0", "image_path": "", "image_alt": "",
            "link_url": "", "link_label": ""}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def _errors(response) -> dict:
    form = response.context["adminform"].form
    return {field: " ".join(messages) for field, messages in form.errors.items()}


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"valid_from_0": "2026-06-01", "valid_from_1": "10:00", "valid_until_0": "2026-05-01",
      "valid_until_1": "10:00"}, "valid_until", "must end after it starts"),
    ({"kind": BlockKind.OFFER}, "promotion", "needs its promotion price list"),
    ({"kind": BlockKind.FEATURED_PRODUCTS}, "products", "Choose the products"),
    ({"kind": BlockKind.FEATURED_CATEGORIES}, "categories", "Choose the categories"),
    ({"kind": BlockKind.BANNER}, "image_path", "A banner needs an image"),
    ({"image_path": "https://elsewhere.example/a.png", "image_alt": "x"}, "image_path",
     "a path on this site"),
    ({"audience": "segments"}, "segments", "Choose at least one segment"),
])
def test_a_wrong_block_is_refused_at_its_field_and_nothing_is_saved(
    admin_client, world, fields, field, message
):
    response = admin_client.post(ADD, _form(**fields))

    assert response.status_code == 200
    assert message in _errors(response).get(field, ""), _errors(response)
    assert ContentBlock.objects.count() == 0


def test_an_offer_aimed_at_a_segment_its_promotion_does_not_reach_is_refused(admin_client, world):
    segments = {s.code: s for s in world.catalogs["professional"].segments.all()}
    promotion = make_list("clinic-spring", PriceListKind.PROMOTION,
                          segments=[segments["private-clinics"]])

    response = admin_client.post(ADD, _form(
        kind=BlockKind.OFFER, audience="segments", promotion=str(promotion.pk),
        segments=[str(segments["nhs-trusts"].pk)]))

    assert "nhs-trusts not reached by clinic-spring" in _errors(response)["segments"]
    assert ContentBlock.objects.count() == 0


def test_a_valid_block_is_saved_with_its_targets(admin_client, world):
    segments = {s.code: s for s in world.catalogs["professional"].segments.all()}

    response = admin_client.post(ADD, _form(
        kind=BlockKind.FEATURED_PRODUCTS, audience="segments",
        segments=[str(segments["private-clinics"].pk)],
        products=[str(world.products["foam"].pk)]))

    assert response.status_code == 302
    block = ContentBlock.objects.get()
    assert list(block.segments.all()) == [segments["private-clinics"]]
    assert list(block.products.all()) == [world.products["foam"]]


def test_preview_as_buyer_shows_exactly_the_blocks_that_buyer_sees(admin_client, world):
    segments = {s.code: s for s in world.catalogs["professional"].segments.all()}
    make_block(title="For clinics", segments=[segments["private-clinics"]],
               kind=BlockKind.FEATURED_PRODUCTS,
               products=[world.products["foam"], world.products["blade"]])
    make_block(title="For trusts", segments=[segments["nhs-trusts"]])
    clinic = world.users["clinic"].memberships.get().organisation
    patient = world.users["patient"]

    as_clinic = admin_client.get(PREVIEW, {"organisation": clinic.pk}).content.decode()
    as_patient = admin_client.get(PREVIEW, {"consumer": patient.email}).content.decode()

    assert "For clinics" in as_clinic and "SI-1001" in as_clinic
    assert "For trusts" not in as_clinic
    assert "For clinics" not in as_patient and "No block reaches this buyer" in as_patient


def test_preview_at_a_later_moment_shows_a_block_not_yet_started(admin_client, world):
    start = timezone.now() + datetime.timedelta(days=3)
    make_block(title="Next week", valid_from=start)

    later = (start + datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    assert "Next week" not in admin_client.get(PREVIEW, {"consumer": ""}).content.decode()
    assert "Next week" in admin_client.get(PREVIEW, {"at": later}).content.decode()


@pytest.mark.parametrize("url", [ADD, PREVIEW])
def test_staff_without_the_block_permission_are_refused(client, world, url):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(url).status_code == 403


def test_staff_with_the_view_permission_may_preview(client, world):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_contentblock"))
    client.force_login(staff)

    assert client.get(PREVIEW).status_code == 200
    assert client.post(ADD, _form()).status_code == 403
    assert ContentBlock.objects.count() == 0


def _order_at(user, organisation, product, code, *, net="20.00", source="promotion"):
    order = Order.objects.create(
        number=f"T-{Order.objects.count() + 1:06d}", workflow="institutional",
        state="submitted", placed_by=user, organisation=organisation, currency="GBP",
        total_net=Decimal(net), total_vat=Decimal("0.00"), total_gross=Decimal(net),
        payment_method=PaymentMethod.ACCOUNT,
    )
    OrderLine.objects.create(
        order=order, product=product, quantity=2, unit_price=Decimal(net) / 2,
        vat_rate=Decimal("0"), price_source=source, price_list_code=code,
        line_net=Decimal(net), line_vat=Decimal("0.00"), line_gross=Decimal(net),
    )
    return order


def test_the_offer_report_counts_who_was_shown_and_who_ordered_at_its_price(
    admin_client, world
):
    segments = {s.code: s for s in world.catalogs["professional"].segments.all()}
    promotion = make_list("clinic-spring", PriceListKind.PROMOTION,
                          segments=[segments["private-clinics"]])
    price(promotion, world.products["foam"], "8.00")
    offer = make_block(title="Spring offer", kind=BlockKind.OFFER, promotion=promotion,
                       segments=[segments["private-clinics"]])
    clinic_user, nhs_user = world.users["clinic"], world.users["nhs"]
    for user in (clinic_user, nhs_user):
        shopper = Client()
        shopper.force_login(user)
        shopper.get("/")
    clinic = clinic_user.memberships.get().organisation
    used = _order_at(clinic_user, clinic, world.products["foam"], "clinic-spring", net="16.00")
    _order_at(clinic_user, clinic, world.products["foam"], "list", source="list")

    report = admin_client.get(
        reverse("admin:merchandising_offerreport_change", args=[offer.pk])).content.decode()
    listing = admin_client.get(reverse("admin:merchandising_offerreport_changelist"))

    assert clinic_user.email in report and nhs_user.email not in report
    assert used.number in report and "£16.00" in report
    row = listing.context["cl"].result_list[0]
    assert (row.shown_count, row.buyers_shown) == (1, 1)
    assert "£16.00" in listing.content.decode()


def test_the_block_pages_of_admin_render(admin_client, world):
    block = make_block(title="Hello", kind=BlockKind.FEATURED_PRODUCTS,
                       products=[world.products["foam"]])

    for url in (ADD, reverse("admin:merchandising_contentblock_changelist"),
                reverse("admin:merchandising_contentblock_change", args=[block.pk]),
                reverse("admin:merchandising_offerreport_changelist")):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    assert PREVIEW in admin_client.get(
        reverse("admin:merchandising_contentblock_changelist")).content.decode()


def test_an_edit_in_admin_changes_the_targets_and_keeps_the_rest(admin_client, world):
    segments = {s.code: s for s in world.catalogs["professional"].segments.all()}
    block = make_block(title="Hello", segments=[segments["nhs-trusts"]])

    response = admin_client.post(
        reverse("admin:merchandising_contentblock_change", args=[block.pk]),
        _form(title="Hello again", audience="segments",
              segments=[str(segments["private-clinics"].pk)]))

    assert response.status_code == 302
    block.refresh_from_db()
    assert block.title == "Hello again"
    assert list(block.segments.all()) == [segments["private-clinics"]]
