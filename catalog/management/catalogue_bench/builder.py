"""Builds the catalogue benchmark's world (see the package docstring): categories, products and
stock, segments, organisations with sites, catalogues, price lists and contracts, territory rights
and restrictions, and the signed-in buyers."""

import datetime
import random
from decimal import Decimal

from django.utils.text import slugify
from stdnum import ean

from accounts.models import Membership, Organisation, Site, User
from catalog.models import Catalog, Category, Manufacturer, Product
from ordering.models import Stock
from pricing.management.commands.bench_pricing import _insert_items
from pricing.models import Contract, PriceList, Quote, QuoteLine
from segments.models import Segment, SegmentCondition, SegmentMembership
from storefront.demo.catalog_products import CATEGORIES
from territories.data.regions import POSTCODE_AREAS
from territories.models import DistributorProfile, Territory, TerritoryRestriction, TerritoryRight

from . import (
    BATCH,
    BROWSED_ROOT,
    BUYER_POSTCODES,
    BUYERS,
    DEVICE_CLASSES,
    EMAIL_DOMAIN,
    LEAVES,
    MAKER_SUFFIXES,
    MAKER_WORDS,
    NAME_PREFIX,
    PREFIX,
    QUOTE_PREFIX,
    RELIEF_ITEM,
    SIZES,
    SKU_PREFIX,
    STATIC_SEGMENTS,
    STYLES,
    Spec,
    World,
    area_of_postcode,
    buyer_email,
    copy_models,
    postcode_in,
)


class Builder:
    """One build of the world from a spec: deterministic for a seed."""

    def __init__(self, spec: Spec, out):
        self.spec = spec
        self.out = out
        self.rng = random.Random(spec.seed)
        self.today = datetime.date.today()
        self.since = self.today - datetime.timedelta(days=365)

    def build(self) -> World:
        self._categories()
        self._products()
        self._segments()
        self._organisations()
        self._catalogs()
        self._prices()
        self._territories()
        return self._buyers()

    # categories and products

    def _categories(self) -> None:
        roots = [Category(name=name, slug=f"{PREFIX}-{slugify(name)}", position=i)
                 for i, (_, name, _) in enumerate(CATEGORIES)]
        Category.objects.bulk_create(roots)
        children, leaves = [], []
        for root, (_, _, kids) in zip(roots, CATEGORIES, strict=True):
            for i, (slug, name) in enumerate(kids):
                children.append(Category(name=name, slug=f"{PREFIX}-{slug}", parent=root,
                                         position=i))
        Category.objects.bulk_create(children)
        for child in children:
            for i, style in enumerate(LEAVES):
                leaves.append(Category(name=f"{child.name}: {style}",
                                       slug=f"{child.slug}-{style}", parent=child, position=i))
        Category.objects.bulk_create(leaves, batch_size=BATCH)
        for level in (roots, children, leaves):
            for category in level:
                category.compute_path()
            Category.objects.bulk_update(level, ["path", "depth"], batch_size=BATCH)
        self.roots = roots
        self.children_of = {r.pk: [c for c in children if c.parent_id == r.pk] for r in roots}
        self.leaves = leaves
        self.root_of_child = {c.pk: c.parent_id for c in children}

    def _products(self) -> None:
        rng = self.rng
        makers = [Manufacturer(name=f"{word} {suffix}", slug=f"{PREFIX}-{slugify(word)}-{s}")
                  for s, suffix in enumerate(MAKER_SUFFIXES) for word in MAKER_WORDS]
        Manufacturer.objects.bulk_create(makers)

        def products():
            for i in range(self.spec.products):
                leaf = self.leaves[i % len(self.leaves)]
                child_name = leaf.name.split(":")[0]
                maker = makers[rng.randrange(len(makers))]
                name = (f"{maker.name.split()[0]} {rng.choice(STYLES)} {child_name.lower()}, "
                        f"{rng.choice(SIZES)}")
                vat = rng.choices(("standard", "reduced", "zero", "relief"), (80, 5, 10, 5))[0]
                status = rng.choices(("on_market", "fsca", "recalled", "withdrawn"),
                                     (96, 2, 1, 1))[0]
                body = f"84{i:010d}"
                yield Product(
                    sku=f"{SKU_PREFIX}{i:06d}", name=name, slug=f"cb-{i:06d}-{slugify(name)}"[:220],
                    description=f"{name}. {leaf.name} for clinical use; latex-free, CE/UKCA "
                                f"marked, supplied in dispenser packs.",
                    plain_description=f"{name} for everyday care at home." if i % 3 else "",
                    category_id=leaf.pk, manufacturer_id=maker.pk,
                    gtin=body + ean.calc_check_digit(body),
                    device_class=rng.choices(DEVICE_CLASSES, (50, 15, 20, 10, 5))[0],
                    gmdn_code=str(30000 + rng.randrange(30000)), gmdn_term=child_name,
                    sterile=rng.random() < 0.4, single_use=rng.random() < 0.5,
                    contains_latex=rng.random() < 0.05,
                    pack_size=rng.choice((1, 5, 10, 25, 50, 100)),
                    unit_of_measure=rng.choice(("each", "pack", "box")),
                    regulatory_status=status, vat_category=vat,
                    vat_relief_item=RELIEF_ITEM if vat == "relief" else "",
                    professional_only=rng.random() < 0.3, attributes={"size": "standard"},
                    is_active=rng.random() < 0.98,
                )

        copy_models(Product, products())
        rows = Product.objects.filter(sku__startswith=SKU_PREFIX).values_list(
            "pk", "category_id", "professional_only"
        )
        self.products = [pk for pk, _, _ in rows]
        leaf_parent = {leaf.pk: leaf.parent_id for leaf in self.leaves}
        self.child_of_product = {pk: leaf_parent[category] for pk, category, _ in rows}
        self.retail_products = [pk for pk, _, professional in rows if not professional]
        self.base_price = {pk: Decimal(rng.randint(150, 250_000)) / 100 for pk in self.products}
        self.by_root: dict[int, list[int]] = {r.pk: [] for r in self.roots}
        for pk in self.products:
            self.by_root[self.root_of_child[self.child_of_product[pk]]].append(pk)

        def stock():
            for pk in self.products:
                if rng.random() < 0.85:
                    on_hand = 0 if rng.random() < 0.1 else rng.randint(1, 500)
                    yield Stock(product_id=pk, on_hand=on_hand,
                                reserved=rng.randint(0, on_hand // 4))

        copy_models(Stock, stock())

    # segments, organisations, catalogues

    def _segments(self) -> None:
        self.rule = {}
        for key, kind, audience in (("nhs", "nhs_trust", "organisations"),
                                    ("clinics", "private_clinic", "organisations"),
                                    ("distributors", "distributor", "organisations"),
                                    ("consumers", None, "consumers")):
            segment = Segment.objects.create(code=f"{PREFIX}-{key}", name=f"Bench {key}",
                                             kind="rule", audience=audience)
            if kind:
                SegmentCondition.objects.create(segment=segment, field="kind", value=kind)
            self.rule[key] = segment
        self.static = Segment.objects.bulk_create(
            Segment(code=f"{PREFIX}-framework-{i}", name=f"Bench framework {i}", kind="static")
            for i in range(STATIC_SEGMENTS)
        )

    def _organisations(self) -> None:
        rng, n = self.rng, self.spec.organisations
        areas = sorted(POSTCODE_AREAS)
        systems = max(n // 50, 1)
        counts = {"nhs_trust": max(n * 38 // 100, 2), "private_clinic": max(n * 35 // 100, 1),
                  "distributor": max(n * 75 // 1000, 1), "gp_practice": max(n // 10, 1)}
        counts["care_home"] = max(n - systems - sum(counts.values()), 1)
        region_areas: dict[str, list[str]] = {}
        for area, (_, region) in POSTCODE_AREAS.items():
            region_areas.setdefault(region, []).append(area)
        regions = sorted(region_areas)

        def organisation(i, kind, name, area, parent_id=None):
            return Organisation(
                name=f"{NAME_PREFIX}{name} {i:04d}", kind=kind, parent_id=parent_id,
                postcode=postcode_in(area, i), postcode_area=area,
                professional_status="verified" if rng.random() < 0.95 else "pending",
                customer_tier=rng.choice("ABC"), credit_limit=Decimal("50000.00"),
                town=POSTCODE_AREAS[area][0],
            )

        copy_models(Organisation, (organisation(i, "ics", "Integrated Care System", areas[i % 124])
                                   for i in range(systems)))
        self.systems = list(Organisation.objects.filter(name__startswith=NAME_PREFIX, kind="ics")
                            .order_by("name").values_list("pk", flat=True))
        names = {"nhs_trust": "Hospitals NHS Trust", "private_clinic": "Physiotherapy Clinic",
                 "distributor": "Medical Supplies", "gp_practice": "Medical Practice",
                 "care_home": "Care Home"}

        def others():
            for kind, count in counts.items():
                for i in range(count):
                    if kind == "distributor":  # spread over the regions, the first in Leeds
                        region = regions[(i + regions.index("north-east-and-yorkshire"))
                                         % len(regions)]
                        area = "LS" if i == 0 else rng.choice(region_areas[region])
                    else:
                        area = rng.choice(areas)
                    parent = self.systems[i % systems] if kind == "nhs_trust" else None
                    yield organisation(i, kind, names[kind], area, parent)

        copy_models(Organisation, others())
        rows = list(Organisation.objects.filter(name__startswith=NAME_PREFIX)
                    .order_by("name").values_list("pk", "kind", "postcode", "postcode_area"))
        self.of_kind = {kind: [pk for pk, k, _, _ in rows if k == kind] for kind in names}
        self.area_of = {pk: area for pk, _, _, area in rows}
        buyers = {self.of_kind["nhs_trust"][0]: "nhs", self.of_kind["private_clinic"][0]: "clinic",
                  self.of_kind["distributor"][0]: "distributor"}
        for pk, key in buyers.items():
            self.area_of[pk] = area_of_postcode(BUYER_POSTCODES[key])
        copy_models(Site, (
            Site(organisation_id=pk, name="Main stores", kind="stores",
                 address_line1="1 Hospital Road", town=POSTCODE_AREAS[self.area_of[pk]][0],
                 postcode=BUYER_POSTCODES[buyers[pk]] if pk in buyers else postcode,
                 postcode_area=self.area_of[pk])
            for pk, _, postcode, _ in rows
        ))
        copy_models(SegmentMembership, (
            SegmentMembership(segment_id=segment.pk, organisation_id=pk)
            for pk, kind, _, _ in rows if kind != "ics"
            for segment in rng.sample(self.static, 2)
        ))
        copy_models(DistributorProfile, (
            DistributorProfile(organisation_id=pk, contact_name="Routed orders desk",
                               phone=f"0113 496 {pk % 10000:04d}",
                               email=f"orders-{pk}@{EMAIL_DOMAIN}")
            for pk in self.of_kind["distributor"]
        ))

    def _catalog(self, code, name, *, categories=(), excluded_categories=(), products=(),
                 excluded_products=(), segments=(), organisations=()) -> Catalog:
        catalog = Catalog.objects.create(code=f"{PREFIX}-{code}", name=name)
        for through, column, ids in (
            (Catalog.categories.through, "category_id", categories),
            (Catalog.excluded_categories.through, "category_id", excluded_categories),
            (Catalog.products.through, "product_id", products),
            (Catalog.excluded_products.through, "product_id", excluded_products),
            (Catalog.segments.through, "segment_id", segments),
            (Catalog.organisations.through, "organisation_id", organisations),
        ):
            copy_models(through, (through(catalog_id=catalog.pk, **{column: i}) for i in ids))
        return catalog

    def _catalogs(self) -> None:
        rng = self.rng
        roots = [r.pk for r in self.roots]
        retail_roots = [r.pk for r in self.roots if r.name in (
            BROWSED_ROOT, "Continence", "Orthopaedics", "Mobility", "Daily living aids")]
        leaves = [leaf.pk for leaf in self.leaves]
        professional = self._catalog(
            "professional", "Professional catalogue", categories=roots,
            excluded_categories=rng.sample(leaves, max(len(leaves) // 60, 1)),
            excluded_products=rng.sample(self.products, len(self.products) // 100),
            segments=[self.rule["nhs"].pk, self.rule["clinics"].pk],
        )
        professional.description = self.spec.as_json()
        professional.save(update_fields=["description"])
        self._catalog("retail", "Retail catalogue", categories=retail_roots,
                      excluded_products=rng.sample(self.products, len(self.products) // 200),
                      segments=[self.rule["consumers"].pk])
        self._catalog("distribution", "Distribution catalogue", categories=roots[:9],
                      segments=[self.rule["distributors"].pk])
        for i, system in enumerate(self.systems):  # each ICS's custom lines
            self._catalog(f"ics-{i}", f"Custom lines {i}", organisations=[system],
                          products=rng.sample(self.products, min(40, len(self.products))))

    # prices

    def _lists(self, specs) -> list[PriceList]:
        return PriceList.objects.bulk_create(
            PriceList(code=f"{PREFIX}-{code}", name=name, kind=kind, priority=priority)
            for code, name, kind, priority in specs
        )

    def _items(self, price_list, product_ids, factor, tiers=(1,)):
        for pid in product_ids:
            base = self.base_price[pid] * Decimal(factor)
            for n, min_q in enumerate(tiers):
                price = (base * (1 - Decimal("0.04") * n)).quantize(Decimal("0.01"))
                yield (price_list.pk, pid, min_q, max(price, Decimal("0.01")), 1, None, 1)

    def _prices(self) -> None:
        rng, products = self.rng, self.products
        written = 0
        base, retail, distribution, clinics = self._lists((
            ("list", "List price", "list", 0), ("retail", "Retail price", "retail", 0),
            ("distribution", "Distributor trade prices", "segment", 10),
            ("clinics", "Clinic volume prices", "segment", 5),
        ))
        written += _insert_items(self._items(base, products, 1, (1, 10, 50)))
        written += _insert_items(self._items(retail, self.retail_products, "1.25"))
        written += _insert_items(self._items(distribution, products, "0.7"))
        written += _insert_items(self._items(clinics, products, "0.95", (10, 100)))
        PriceList.segments.through.objects.bulk_create([
            PriceList.segments.through(pricelist_id=distribution.pk,
                                       segment_id=self.rule["distributors"].pk),
            PriceList.segments.through(pricelist_id=clinics.pk, segment_id=self.rule["clinics"].pk),
        ])
        framework = self._lists(
            (f"framework-{i}", f"Framework {i}", "promotion" if i % 4 == 0 else "segment", i % 3)
            for i in range(STATIC_SEGMENTS)
        )
        PriceList.segments.through.objects.bulk_create(
            PriceList.segments.through(pricelist_id=pl.pk, segment_id=segment.pk)
            for pl, segment in zip(framework, self.static, strict=True)
        )
        for price_list in framework:
            written += _insert_items(self._items(
                price_list, rng.sample(products, len(products) // 4), "0.9", (1, 10)))
        regional = self._lists((("london", "London weighting", "territory", 0),
                                ("scotland", "Scotland prices", "territory", 0)))
        for price_list, region in zip(regional, ("london", "scotland"), strict=True):
            PriceList.territories.through.objects.create(
                pricelist_id=price_list.pk, territory=Territory.objects.get(code=region))
            written += _insert_items(self._items(
                price_list, rng.sample(products, len(products) // 10), "1.05"))
        written += self._contracts(max(self.spec.price_rows - written, 0))
        self.price_rows = written

    def _contracts(self, remaining: int) -> int:
        rng = self.rng
        trusts = self.of_kind["nhs_trust"]
        owners = self.systems + trusts[::2]
        lists = self._lists((f"contract-{n}", f"Contract list {n}", "contract", 0)
                            for n in range(len(owners)))
        Contract.objects.bulk_create(
            Contract(organisation_id=org, reference=f"CB-NHS-{2024 + n % 3}-{n:04d}",
                     lot=str(n % 7 + 1), status="active", valid_from=self.since,
                     price_list=price_list)
            for n, (org, price_list) in enumerate(zip(owners, lists, strict=True))
        )
        per_list = min(max(remaining // len(owners), 1), len(self.products))
        roots = list(self.by_root)
        written = 0
        buyer_contracts = {self.systems[0], trusts[0]}  # the NHS buyer's trust and its ICS
        for org, price_list in zip(owners, lists, strict=True):
            lots = rng.sample(roots, 3)
            if org in buyer_contracts:
                lots[0] = roots[0]
            pool = [pid for root in lots for pid in self.by_root[root]]
            chosen = rng.sample(pool, min(per_list, len(pool)))
            written += _insert_items(self._items(price_list, chosen, rng.choice(
                ("0.72", "0.78", "0.84"))))
        quote = Quote.objects.create(
            organisation_id=trusts[0], number=f"{QUOTE_PREFIX}0001", status="accepted",
            expires_on=self.today + datetime.timedelta(days=60),
        )
        wound_care = self.by_root[roots[0]]
        QuoteLine.objects.bulk_create(
            QuoteLine(quote=quote, product_id=pid, quantity=500,
                      unit_price=(self.base_price[pid] * Decimal("0.6")).quantize(Decimal("0.01")))
            for pid in rng.sample(wound_care, min(30, len(wound_care)))
        )
        return written

    # territories

    def _territories(self) -> None:
        rng = self.rng
        regions = {t.code: t for t in Territory.objects.filter(is_region=True)}
        by_region: dict[str, list[int]] = {}
        for pk in self.of_kind["distributor"]:
            by_region.setdefault(POSTCODE_AREAS[self.area_of[pk]][1], []).append(pk)
        rights, exclusive_children = [], {}
        for r, code in enumerate(sorted(regions)):
            holders = by_region.get(code, [])
            for n, root in enumerate(self.roots):
                children = self.children_of[root.pk]
                child = children[(r + n) % len(children)]
                exclusive_children.setdefault(code, set()).add(child.pk)
                if holders:
                    rights.append(self._right(holders[n % len(holders)], regions[code],
                                              category=child.pk, exclusive=True))
        bench_distributor = self.of_kind["distributor"][0]
        products_of_child: dict[int, list[int]] = {}
        for pid, child in self.child_of_product.items():
            products_of_child.setdefault(child, []).append(pid)
        for code, holders in by_region.items():
            allowed = [c for c in self.root_of_child if c not in exclusive_children[code]]
            for holder in holders:
                children = rng.sample(allowed, min(4, len(allowed)))
                if holder == bench_distributor:
                    children += [c.pk for c in self.children_of[self.roots[0].pk]
                                 if c.pk in allowed and c.pk not in children]
                rights += [self._right(holder, regions[code], category=c, exclusive=False)
                           for c in children]
                pool = [p for c in allowed for p in products_of_child.get(c, ())]
                rights += [self._right(holder, regions[code], product=p, exclusive=False)
                           for p in rng.sample(pool, min(10, len(pool)))]
        copy_models(TerritoryRight, rights)
        restrictions = []
        for code, offset, reason in (("scotland", 3, "Not registered for sale in Scotland"),
                                     ("northern-ireland", 4, "Not UKNI marked")):
            for n, root in enumerate(self.roots):
                children = self.children_of[root.pk]
                restrictions.append(TerritoryRestriction(
                    category_id=children[(n + offset) % len(children)].pk,
                    territory=regions[code], valid_from=self.since, reason=reason))
        restrictions += [
            TerritoryRestriction(product_id=p, territory=regions["wales"], valid_from=self.since,
                                 reason="Not on the Welsh health boards' formulary")
            for p in rng.sample(self.products, len(self.products) // 100)
        ]
        copy_models(TerritoryRestriction, restrictions)

    def _right(self, distributor, territory, *, exclusive, category=None, product=None):
        return TerritoryRight(distributor_id=distributor, territory=territory,
                              category_id=category, product_id=product, exclusive=exclusive,
                              valid_from=self.since, agreement_reference=f"CB-{distributor}")

    # buyers

    def _buyers(self) -> World:
        organisations = {"nhs": self.of_kind["nhs_trust"][0],
                         "clinic": self.of_kind["private_clinic"][0],
                         "distributor": self.of_kind["distributor"][0]}
        users = {}
        for key, label in BUYERS:
            extra = {"postcode": BUYER_POSTCODES[key]} if key == "consumer" else {}
            users[key] = User.objects.create_user(buyer_email(key), full_name=label, **extra)
            if key in organisations:
                Membership.objects.create(user=users[key], organisation_id=organisations[key],
                                          is_buyer=True, is_requisitioner=True)
        return World(users, self.roots[0].slug, self.roots[0].pk)
