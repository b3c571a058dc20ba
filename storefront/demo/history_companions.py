"""Products that go together in the demo's order history: a dressing goes out with a film
dressing or plasters, a cannula with an infusion set or a syringe, a Foley catheter with a
drainage bag. Each product has one companion (the same one every time, in the same quantity), so
the history holds the pairs a buyer would expect "often ordered together" to find, and a buyer's
spending over time keeps the shape of its habit."""

# Category → the categories whose products are often ordered with it.
COMPANIONS = {
    "Foam dressings": ("Film dressings", "Plasters and first aid"),
    "Hydrocolloid dressings": ("Film dressings", "Plasters and first aid"),
    "Alginate dressings": ("Film dressings", "Foam dressings"),
    "Antimicrobial dressings": ("Film dressings", "Plasters and first aid"),
    "IV cannulas": ("Infusion sets", "Syringes"),
    "Syringes": ("Hypodermic needles",),
    "Foley catheters": ("Drainage bags",),
    "Intermittent catheters": ("Drainage bags",),
    "Blades and scalpels": ("Sutures", "Forceps"),
    "Examination gloves": ("Device and surface disinfection",),
    "Oxygen therapy": ("Pulse oximetry",),
    "Profiling beds": ("Pressure mattresses",),
    "Wheelchairs": ("Pressure cushions",),
    "All-in-one briefs": ("Bed protection",),
}


def companion_categories(category_ids: dict[str, int]) -> dict[int, tuple[int, ...]]:
    """COMPANIONS by category id, for the categories the catalogue has."""
    return {
        category_ids[name]: tuple(category_ids[c] for c in companions if c in category_ids)
        for name, companions in COMPANIONS.items() if name in category_ids
    }


def with_companions(chosen: list[int], by_category: dict[int, list[int]],
                    companions: dict[int, tuple[int, ...]]) -> dict[int, int]:
    """{companion: the product of `chosen` it goes with}, for the companions the buyer may
    order that are not in the basket already. A product's companion is chosen by its place in
    its own category, so it stays the same whatever the database's ids."""
    place = {p: (c, i) for c, products in by_category.items() for i, p in enumerate(products)}
    added: dict[int, int] = {}
    for product_id in chosen:
        category_id, position = place.get(product_id, (None, 0))
        categories = [c for c in companions.get(category_id, ()) if by_category.get(c)]
        if not categories:
            continue
        options = by_category[categories[position % len(categories)]]
        companion = options[position % len(options)]
        if companion not in chosen and companion not in added:
            added[companion] = product_id
    return added
