"""Who buys in the demo's order history, and how: more trusts of several sizes, clinics, GP
practices, care homes and pharmacies around the named demo organisations, more retail consumers
around the named ones, and the buying habit each of them follows over the 18 months.

Names and addresses are fictional; postcodes are real UK formats in their region.
"""

from dataclasses import dataclass


class Habit:
    """How a buyer orders over the 18 months of history (see `history.order_days`)."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    OCCASIONAL = "occasional"
    LAPSING = "lapsing"  # large orders every two weeks or so, stopped five to eight months ago
    DECLINING = "declining"  # orders further apart and smaller as time goes on
    GROWING = "growing"  # started a year ago; orders closer together and larger
    NEW = "new"  # one small first order within the last month
    ONE_OFF = "one_off"
    PROSPECT = "prospect"  # never ordered


@dataclass(frozen=True)
class HistoryOrganisationSpec:
    key: str
    name: str
    kind: str
    size_band: str
    address_line1: str
    town: str
    postcode: str
    habit: str
    site_kind: str
    customer_tier: str = "C"
    industry: str = "Healthcare"
    credit_limit: str = "10000.00"


def _org(key, name, kind, size, address, town, postcode, habit, site_kind, tier="C",
         industry="Healthcare", credit="10000.00"):
    return HistoryOrganisationSpec(key, name, kind, size, address, town, postcode, habit,
                                   site_kind, tier, industry, credit)


HISTORY_ORGANISATIONS: tuple[HistoryOrganisationSpec, ...] = (
    # NHS trusts, from a community trust to a teaching hospital group.
    _org("severnside", "Severnside Hospitals NHS Trust", "nhs_trust", "enterprise",
         "Severnside Royal Hospital, Great Western Road", "Gloucester", "GL1 3NN", Habit.WEEKLY,
         "stores", "A", credit="400000.00"),
    _org("mersey-vale", "Mersey Vale University Hospitals NHS Foundation Trust", "nhs_trust",
         "enterprise", "Mersey Vale Hospital, Prescot Street", "Liverpool", "L7 8XP",
         Habit.LAPSING, "stores", "A", credit="400000.00"),
    _org("tyne-bridge", "Tyne Bridge Hospitals NHS Foundation Trust", "nhs_trust", "large",
         "Tyne Bridge Infirmary, Queen Victoria Road", "Newcastle upon Tyne", "NE1 4LP",
         Habit.MONTHLY, "stores", "B", credit="200000.00"),
    _org("downs-weald", "Downs and Weald NHS Trust", "nhs_trust", "large",
         "Downs General Hospital, Eastern Road", "Brighton", "BN2 5BE", Habit.DECLINING,
         "stores", "B", credit="200000.00"),
    _org("trent-valley", "Trent Valley Hospitals NHS Trust", "nhs_trust", "large",
         "Trent Valley Hospital, Hucknall Road", "Nottingham", "NG5 1PB", Habit.GROWING,
         "stores", "B", credit="200000.00"),
    _org("fenland", "Fenland Community Healthcare NHS Trust", "nhs_trust", "medium",
         "Fenland House, Bretton Gate", "Peterborough", "PE3 9GZ", Habit.QUARTERLY, "stores",
         credit="60000.00"),
    _org("cherwell", "Cherwell Community Health NHS Trust", "nhs_trust", "small",
         "Cherwell House, Old Road", "Oxford", "OX3 9DU", Habit.NEW, "stores",
         credit="40000.00"),
    _org("marches", "Marches Mental Health NHS Trust", "nhs_trust", "medium",
         "Marches House, Union Walk", "Hereford", "HR1 2ER", Habit.PROSPECT, "stores",
         credit="40000.00"),
    # Private clinics.
    _org("bath-spa-physio", "Bath Spa Physiotherapy Clinic", "private_clinic", "small",
         "12 Milsom Street", "Bath", "BA1 1DN", Habit.MONTHLY, "clinic", "B", "Physiotherapy"),
    _org("norwich-wound", "Norwich Wound Care Clinic", "private_clinic", "small",
         "3 Prince of Wales Road", "Norwich", "NR1 1BD", Habit.WEEKLY, "clinic", "B",
         "Wound care"),
    _org("cambridge-hand", "Cambridge Hand Therapy Clinic", "private_clinic", "micro",
         "21 Hills Road", "Cambridge", "CB2 1NW", Habit.QUARTERLY, "clinic",
         industry="Hand therapy", credit="5000.00"),
    _org("canterbury-podiatry", "Canterbury Podiatry Centre", "private_clinic", "micro",
         "8 Castle Street", "Canterbury", "CT1 2QF", Habit.ONE_OFF, "clinic",
         industry="Podiatry", credit="5000.00"),
    _org("chester-osteo", "Chester Osteopathy Practice", "private_clinic", "micro",
         "44 Watergate Street", "Chester", "CH1 2LA", Habit.DECLINING, "clinic",
         industry="Osteopathy", credit="5000.00"),
    _org("swansea-physio", "Swansea Bay Physiotherapy", "private_clinic", "micro",
         "17 Walter Road", "Swansea", "SA1 5NF", Habit.GROWING, "clinic",
         industry="Physiotherapy", credit="5000.00"),
    _org("bristol-harbourside", "Bristol Harbourside Physio", "private_clinic", "small",
         "Unit 2, Canons Way", "Bristol", "BS1 5LL", Habit.NEW, "clinic",
         industry="Physiotherapy"),
    _org("durham-pain", "Durham Pain Management Clinic", "private_clinic", "small",
         "6 Old Elvet", "Durham", "DH1 3HL", Habit.PROSPECT, "clinic",
         industry="Pain management"),
    # GP practices.
    _org("abbey-road", "Abbey Road Medical Centre", "gp_practice", "small",
         "78 Abbey Road", "London", "NW8 0AE", Habit.MONTHLY, "clinic", industry="Primary care"),
    _org("wharfedale", "Wharfedale Group Practice", "gp_practice", "medium",
         "Wharfedale Health Centre, Bridge Street", "Otley", "LS21 1BQ", Habit.FORTNIGHTLY,
         "clinic", "B", "Primary care"),
    _org("castle-street", "Castle Street Surgery", "gp_practice", "small",
         "9 Castle Street", "Cambridge", "CB3 0AQ", Habit.QUARTERLY, "clinic",
         industry="Primary care"),
    _org("st-marys-surgery", "St Mary's Surgery", "gp_practice", "small",
         "St Mary's Road", "Southampton", "SO14 0BG", Habit.LAPSING, "clinic",
         industry="Primary care"),
    _org("moorland", "Moorland Medical Practice", "gp_practice", "micro",
         "Ball Haye Road", "Leek", "ST13 6QR", Habit.ONE_OFF, "clinic", industry="Primary care"),
    _org("castlegate", "Castlegate Surgery", "gp_practice", "small",
         "15 Castlegate", "York", "YO1 9RN", Habit.GROWING, "clinic", industry="Primary care"),
    _org("old-school", "Old School Surgery", "gp_practice", "small",
         "2 Station Road", "Bristol", "BS16 3SG", Habit.NEW, "clinic", industry="Primary care"),
    _org("bridge-street", "Bridge Street Practice", "gp_practice", "small",
         "30 Bridge Street", "Cardiff", "CF10 2EE", Habit.PROSPECT, "clinic",
         industry="Primary care"),
    # Care homes.
    _org("willow-court", "Willow Court Care Home", "care_home", "small",
         "Willow Court, Babbacombe Road", "Torquay", "TQ1 1HT", Habit.WEEKLY, "clinic",
         industry="Social care"),
    _org("beechwood", "Beechwood Nursing Home", "care_home", "medium",
         "Beechwood House, Alderley Road", "Wilmslow", "SK9 1PZ", Habit.MONTHLY, "clinic", "B",
         "Social care"),
    _org("heatherfield", "Heatherfield Care Home", "care_home", "small",
         "120 Kedleston Road", "Derby", "DE22 1FT", Habit.FORTNIGHTLY, "clinic",
         industry="Social care"),
    _org("oakhaven", "Oakhaven Residential Care", "care_home", "small",
         "Oakhaven, Broyle Road", "Chichester", "PO19 6AT", Habit.DECLINING, "clinic",
         industry="Social care"),
    _org("lindisfarne", "Lindisfarne House Nursing Home", "care_home", "small",
         "Lindisfarne House, Front Street", "Morpeth", "NE61 1PL", Habit.OCCASIONAL, "clinic",
         industry="Social care"),
    _org("seaview", "Seaview Care Home", "care_home", "small",
         "Seaview, Queens Promenade", "Blackpool", "FY2 9AA", Habit.LAPSING, "clinic",
         industry="Social care"),
    _org("rosemary-lodge", "Rosemary Lodge", "care_home", "micro",
         "Rosemary Lodge, Bath Road", "Reading", "RG1 6NB", Habit.NEW, "clinic",
         industry="Social care"),
    _org("ashgrove", "Ashgrove Care Home", "care_home", "micro",
         "Ashgrove, Wragby Road", "Lincoln", "LN2 4PU", Habit.PROSPECT, "clinic",
         industry="Social care"),
    # Community pharmacies.
    _org("kingsway-pharmacy", "Kingsway Pharmacy", "pharmacy", "micro",
         "41 The Kingsway", "Swansea", "SA1 5JQ", Habit.MONTHLY, "pharmacy",
         industry="Community pharmacy", credit="5000.00"),
    _org("market-square", "Market Square Pharmacy", "pharmacy", "micro",
         "5 Market Square", "Shrewsbury", "SY1 1LE", Habit.QUARTERLY, "pharmacy",
         industry="Community pharmacy", credit="5000.00"),
    _org("highfield-pharmacy", "Highfield Pharmacy", "pharmacy", "micro",
         "210 London Road", "Leicester", "LE2 1NE", Habit.ONE_OFF, "pharmacy",
         industry="Community pharmacy", credit="5000.00"),
)

# The habits of the named demo organisations (the ICSs and the clinic group never order).
DEMO_ORGANISATION_HABITS: dict[str, str] = {
    "riverside": Habit.WEEKLY,
    "northgate": Habit.MONTHLY,
    "eastbrook": Habit.DECLINING,
    "kingsmead": Habit.QUARTERLY,
    "harbour": Habit.FORTNIGHTLY,
    "exe-valley": Habit.ONE_OFF,
    "kelvin": Habit.GROWING,
    "pennine": Habit.WEEKLY,
    "solent": Habit.MONTHLY,
    "mercia": Habit.LAPSING,
}

# The named demo consumers' habits (their own demo orders stay as they are).
DEMO_CONSUMER_HABITS: dict[str, str] = {
    "patient@demo.test": Habit.MONTHLY,
    "carer@demo.test": Habit.QUARTERLY,
    "joan.pritchard@demo.test": Habit.LAPSING,
    "aidan.byrne@demo.test": Habit.ONE_OFF,
    "fiona.campbell@demo.test": Habit.FORTNIGHTLY,
}


@dataclass(frozen=True)
class HistoryConsumerSpec:
    email: str
    full_name: str
    postcode: str
    habit: str


_CONSUMERS = (
    ("Eleanor Hughes", "BS8 2PL", Habit.WEEKLY),
    ("Robert Kaur", "M14 6HR", Habit.WEEKLY),
    ("Dorothy Evans", "CF5 1QE", Habit.FORTNIGHTLY),
    ("Stephen Mahmood", "LS8 2NT", Habit.FORTNIGHTLY),
    ("Patricia O'Neill", "G12 8QQ", Habit.FORTNIGHTLY),
    ("Brian Thompson", "NE3 4ES", Habit.MONTHLY),
    ("Susan Patel", "LE4 6GE", Habit.MONTHLY),
    ("Kenneth Walsh", "L18 1EA", Habit.MONTHLY),
    ("Maureen Clarke", "EX4 4QJ", Habit.MONTHLY),
    ("David Okoye", "SE15 4QF", Habit.MONTHLY),
    ("Jean Robertson", "EH9 1PR", Habit.MONTHLY),
    ("Anthony Price", "SA2 0RA", Habit.MONTHLY),
    ("Christine Bell", "NG7 2RD", Habit.QUARTERLY),
    ("Peter Lewis", "B15 2TT", Habit.QUARTERLY),
    ("Valerie Khan", "BD9 4DW", Habit.QUARTERLY),
    ("Michael Doyle", "N16 7UX", Habit.QUARTERLY),
    ("Sheila Morris", "PL3 5HN", Habit.QUARTERLY),
    ("Graham Wood", "S10 2TN", Habit.QUARTERLY),
    ("Linda Chapman", "NR2 3AB", Habit.OCCASIONAL),
    ("Raymond Hall", "CV4 7AL", Habit.OCCASIONAL),
    ("Janet Fraser", "AB10 6RN", Habit.OCCASIONAL),
    ("Colin Ward", "BN1 6AD", Habit.OCCASIONAL),
    ("Barbara Singh", "E17 4NU", Habit.OCCASIONAL),
    ("Derek Lloyd", "LL57 2EW", Habit.LAPSING),
    ("Irene McDonald", "DD1 4HN", Habit.LAPSING),
    ("Trevor Bennett", "OX4 1RE", Habit.LAPSING),
    ("Carol Ahmed", "W12 9HB", Habit.LAPSING),
    ("Gordon Shaw", "HU5 2SL", Habit.DECLINING),
    ("Pauline Grant", "SO17 1BJ", Habit.DECLINING),
    ("Keith Rees", "NP20 4LP", Habit.DECLINING),
    ("Wendy Harrison", "YO24 1AB", Habit.GROWING),
    ("Neil Gallagher", "M20 6RT", Habit.GROWING),
    ("Amanda Foster", "GU1 3JD", Habit.GROWING),
    ("Samuel Adeyemi", "SE22 9QA", Habit.NEW),
    ("Hannah Murphy", "BT9 6AB", Habit.NEW),
    ("Oliver Jenkins", "TR1 3LQ", Habit.NEW),
    ("Zara Hussain", "B29 6BD", Habit.NEW),
    ("Edward Barker", "IP4 2BB", Habit.ONE_OFF),
    ("Margaret Owen", "SY23 1DL", Habit.ONE_OFF),
    ("Frank Jackson", "DE1 1BT", Habit.ONE_OFF),
    ("Ruth Cohen", "NW11 7HB", Habit.ONE_OFF),
    ("Alan Marshall", "PE1 4DX", Habit.ONE_OFF),
    ("Lucy Bradshaw", "CH2 3AN", Habit.PROSPECT),
    ("Ian Stewart", "KY16 9AJ", Habit.PROSPECT),
    ("Gwen Pritchard", "LD1 5AH", Habit.PROSPECT),
    ("Tom Fletcher", "CA1 1RD", Habit.PROSPECT),
)


def _email(full_name: str) -> str:
    local = "".join(c for c in full_name.lower().replace(" ", ".") if c.isalpha() or c == ".")
    return f"{local}@demo.test"


HISTORY_CONSUMERS: tuple[HistoryConsumerSpec, ...] = tuple(
    HistoryConsumerSpec(_email(name), name, postcode, habit) for name, postcode, habit in _CONSUMERS
)
