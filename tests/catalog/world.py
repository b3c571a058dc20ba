"""A small world mirroring the demo: an NHS trust with a custom catalogue under its ICS, a second
trust, a clinic, a distributor, a retail consumer and a guest, each reaching other catalogues."""

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import OrganisationKind
from catalog.models import Product
from pricing.models import PriceList, PriceListItem, PriceListKind
from segments.models import Audience, SegmentKind
from territories.models import Territory, TerritoryRight
from territories.services import territory_right_save
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    SegmentConditionFactory,
    SegmentFactory,
    UserFactory,
)

from .factories import CatalogFactory, CategoryFactory, ManufacturerFactory, ProductFactory


def rule_segment(code: str, kind: str | None):
    if kind is None:
        return SegmentFactory(code=code, name=code, kind=SegmentKind.RULE,
                              audience=Audience.CONSUMERS)
    segment = SegmentFactory(code=code, name=code, kind=SegmentKind.RULE)
    SegmentConditionFactory(segment=segment, field="kind", operator="is", value=kind)
    return segment


def price_everything(products, *, list_price="10.00", retail_price="14.99"):
    """A B2B list price and a retail price for each product, so pages show real prices."""
    for code, kind, amount in (("list", PriceListKind.LIST, list_price),
                               ("retail", PriceListKind.RETAIL, retail_price)):
        price_list = PriceList.objects.filter(code=code).first()
        if price_list is None:
            price_list = PriceList(code=code, name=code.title(), kind=kind)
            price_list.full_clean()
            price_list.save()
        for product in products:
            PriceListItem.objects.get_or_create(
                price_list=price_list, product=product, min_quantity=1,
                defaults={"unit_price": Decimal(amount)},
            )


@dataclass
class World:
    categories: dict
    products: dict[str, Product]
    users: dict
    catalogs: dict

    def skus(self, *names: str) -> set[str]:
        return {self.products[name].sku for name in names}


PERSONA_SEES = {
    "nhs": {"foam", "silver", "plasters", "latex_gloves", "excluded_plasters", "blade",
            "riverside_pack", "stick", "cannula"},
    "trust2": {"foam", "silver", "plasters", "latex_gloves", "excluded_plasters", "blade",
               "stick", "cannula"},
    "clinic": {"foam", "silver", "plasters", "latex_gloves", "excluded_plasters", "blade",
               "stick", "cannula"},
    "distributor": {"foam", "plasters", "latex_gloves", "excluded_plasters"},
    "patient": {"foam", "plasters", "stick"},
    "guest": {"foam", "plasters", "stick"},
}


def build_world() -> World:
    """Build the world (needs database access)."""
    segments = {
        "nhs-trusts": rule_segment("nhs-trusts", OrganisationKind.NHS_TRUST),
        "private-clinics": rule_segment("private-clinics", "private_clinic"),
        "distributors": rule_segment("distributors", "distributor"),
        "retail-consumers": rule_segment("retail-consumers", None),
    }
    ics = OrganisationFactory(name="North Thames ICS", kind="ics")
    riverside = OrganisationFactory(
        name="Riverside University Hospitals NHS Foundation Trust", parent=ics,
        professional_status="verified",
    )
    northgate = OrganisationFactory(name="Northgate Hospitals NHS Trust",
                                    professional_status="verified")
    harbour = OrganisationFactory(name="Harbour Physiotherapy Clinic", kind="private_clinic",
                                  professional_status="verified")
    pennine = OrganisationFactory(name="Pennine Medical Supplies", kind="distributor",
                                  professional_status="verified")
    users = {
        "nhs": MembershipFactory(organisation=riverside, user__email="nhs.buyer@demo.test").user,
        "trust2": MembershipFactory(organisation=northgate,
                                    user__email="trust2.buyer@demo.test").user,
        "clinic": MembershipFactory(organisation=harbour,
                                    user__email="clinic.buyer@demo.test").user,
        "distributor": MembershipFactory(organisation=pennine,
                                         user__email="distributor.north@demo.test").user,
        "patient": UserFactory(email="patient@demo.test", postcode="SE22 8EF"),
        "guest": None,
    }

    wound = CategoryFactory(name="Wound care", slug="wound-care")
    foam_dressings = CategoryFactory(name="Foam dressings", slug="foam-dressings", parent=wound)
    plasters = CategoryFactory(name="Plasters and first aid", slug="plasters", parent=wound)
    surgical = CategoryFactory(name="Surgical instruments", slug="surgical-instruments")
    blades = CategoryFactory(name="Blades", slug="blades", parent=surgical)
    packs = CategoryFactory(name="Custom procedure packs", slug="custom-packs", parent=surgical)
    mobility = CategoryFactory(name="Mobility", slug="mobility")
    walking = CategoryFactory(name="Walking aids", slug="walking-aids", parent=mobility)
    infusion = CategoryFactory(name="Infusion", slug="infusion")
    cannulas = CategoryFactory(name="IV cannulas", slug="iv-cannulas", parent=infusion)

    albion = ManufacturerFactory(name="Albion Medical Ltd", slug="albion")
    severn = ManufacturerFactory(name="Severn Mobility", slug="severn")
    products = {
        "foam": ProductFactory(sku="WC-1001", name="Silicone foam dressing 10 x 10 cm",
                               category=foam_dressings, manufacturer=albion, sterile=True),
        "silver": ProductFactory(sku="WC-1002", name="Silver alginate dressing 10 x 10 cm",
                                 category=foam_dressings, manufacturer=albion,
                                 device_class="III", sterile=True, professional_only=True),
        "plasters": ProductFactory(sku="WC-1003", name="Fabric plasters assorted",
                                   category=plasters, manufacturer=albion, device_class="I"),
        "latex_gloves": ProductFactory(sku="WC-1004", name="Latex examination gloves medium",
                                       category=plasters, manufacturer=albion, device_class="I",
                                       contains_latex=True, professional_only=True),
        "excluded_plasters": ProductFactory(sku="WC-1005", name="Washproof plasters assorted",
                                            category=plasters, manufacturer=albion,
                                            device_class="I"),
        "recalled": ProductFactory(sku="WC-1006", name="Hydrocolloid dressing 15 x 15 cm",
                                   category=foam_dressings, manufacturer=albion,
                                   regulatory_status="recalled"),
        "inactive": ProductFactory(sku="WC-1007", name="Blister plasters",
                                   category=plasters, manufacturer=albion, is_active=False),
        "blade": ProductFactory(sku="SI-1001", name="Surgical blade No. 15",
                                category=blades, manufacturer=albion, device_class="IIa",
                                sterile=True, professional_only=True),
        "riverside_pack": ProductFactory(sku="SI-1002", name="Riverside ward dressing pack",
                                         category=packs, manufacturer=albion, sterile=True,
                                         device_class="Is", professional_only=True),
        "stick": ProductFactory(sku="MB-1001", name="Adjustable walking stick",
                                category=walking, manufacturer=severn, device_class="I",
                                vat_category="relief",
                                vat_relief_item="VAT Notice 701/7 Group 12 item 2(g)"),
        "cannula": ProductFactory(sku="IN-1001", name="Safety IV cannula 20G",
                                  category=cannulas, manufacturer=albion, device_class="IIa",
                                  sterile=True, professional_only=True),
    }
    catalogs = {
        "retail": CatalogFactory(
            code="retail", categories=[foam_dressings, plasters, walking],
            excluded_products=[products["excluded_plasters"]],
            segments=[segments["retail-consumers"]],
        ),
        "professional": CatalogFactory(
            code="professional", categories=[wound, surgical, mobility, infusion],
            excluded_categories=[packs],
            segments=[segments["nhs-trusts"], segments["private-clinics"]],
        ),
        "distributor": CatalogFactory(
            code="distributor", categories=[wound], excluded_products=[products["silver"]],
            segments=[segments["distributors"]],
        ),
        "riverside": CatalogFactory(code="riverside-custom", categories=[packs],
                                    organisations=[riverside]),
    }
    price_everything(products.values())
    # A distributor sees only the lines it holds rights to: Pennine holds wound care.
    territory_right_save(
        right=TerritoryRight(
            distributor=pennine, territory=Territory.objects.get(code="london"), category=wound,
            exclusive=False,
        )
    )
    categories = {c.slug: c for c in (wound, foam_dressings, plasters, surgical, blades, packs,
                                      mobility, walking, infusion, cannulas)}
    return World(categories, products, users, catalogs)

