"""The organisations of the demo world: an integrated care system over three London trusts, a Leeds
trust under its own ICS, a clinic group with two of three clinics, and three regional distributors.

Names, addresses, ODS codes and GLNs are fictional; postcodes are real UK formats in their region.
"""
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class SiteSpec:
    name: str
    kind: str
    address_line1: str
    town: str
    postcode: str
    address_line2: str = ""


@dataclass(frozen=True)
class CostCentreSpec:
    code: str
    name: str
    annual_budget: Decimal


@dataclass(frozen=True)
class OrganisationSpec:
    key: str
    name: str
    kind: str
    gs1_company: int
    address_line1: str
    town: str
    postcode: str
    parent: str = ""
    ods_code: str = ""
    industry: str = "Healthcare"
    size_band: str = ""
    customer_tier: str = "C"
    credit_limit: Decimal = Decimal("0.00")
    payment_terms_days: int = 30
    professional_status: str = "unverified"
    account_manager: str = ""
    sites: tuple[SiteSpec, ...] = ()
    cost_centres: tuple[CostCentreSpec, ...] = field(default=())


RIVERSIDE_HOSPITAL = ("Riverside Hospital, 1 Embankment Way", "London", "SE1 7EH")
CAMBERWELL_GREEN = ("Camberwell Green Hospital, 52 Denmark Hill", "London", "SE5 9RS")
EASTBROOK_HOSPITAL = ("Eastbrook Hospital, 200 Romford Road", "London", "E15 4LP")
KINGSMEAD_HOSPITAL = ("Kingsmead Hospital, 1 Acton Lane", "London", "NW10 7NS")
NORTHGATE_LEEDS = ("Northgate General Hospital, 110 York Road", "Leeds", "LS9 6TA")
NORTHGATE_WAKEFIELD = ("Northgate Wakefield Hospital, 80 Aberford Road", "Wakefield", "WF1 4DG")


def _site(name, kind, place, line2=""):
    address, town, postcode = place
    return SiteSpec(name, kind, address, town, postcode, address_line2=line2)


ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec(
        key="north-thames-ics", name="North Thames ICS", kind="ics", gs1_company=1,
        ods_code="Q7T", address_line1="5th Floor, 2 Pancras Square", town="London",
        postcode="N1C 4AG", size_band="large", customer_tier="B",
        account_manager="manager2@demo.test",
    ),
    OrganisationSpec(
        key="riverside", name="Riverside University Hospitals NHS Foundation Trust",
        kind="nhs_trust", parent="north-thames-ics", gs1_company=2, ods_code="R9V",
        address_line1=RIVERSIDE_HOSPITAL[0], town="London", postcode="SE1 7EH",
        size_band="enterprise", customer_tier="A", credit_limit=Decimal("500000.00"),
        payment_terms_days=30, professional_status="verified", account_manager="manager@demo.test",
        sites=(
            _site("Florence Ward (Acute Medicine)", "ward", RIVERSIDE_HOSPITAL,
                  "North Wing, Level 7"),
            _site("Nightingale Ward (General Surgery)", "ward", RIVERSIDE_HOSPITAL,
                  "North Wing, Level 8"),
            _site("Seacole Ward (Care of the Elderly)", "ward", CAMBERWELL_GREEN,
                  "Block B, Level 2"),
            _site("Main Theatres", "theatre", RIVERSIDE_HOSPITAL, "East Wing, Level 2"),
            _site("Day Surgery Theatres", "theatre", CAMBERWELL_GREEN, "Day Surgery Unit"),
            _site("Pharmacy", "pharmacy", RIVERSIDE_HOSPITAL, "Lower Ground Floor"),
            SiteSpec("Central Stores", "stores", "Unit 4, Cable Street Trade Park, 18 Cable Street",
                     "London", "E1 8DA"),
        ),
        cost_centres=(
            CostCentreSpec("W7210", "Florence Ward consumables", Decimal("60000.00")),
            CostCentreSpec("W7220", "Nightingale Ward consumables", Decimal("55000.00")),
            CostCentreSpec("W7310", "Seacole Ward consumables", Decimal("40000.00")),
            CostCentreSpec("T4100", "Main Theatres devices", Decimal("250000.00")),
            CostCentreSpec("T4200", "Day Surgery devices", Decimal("120000.00")),
            CostCentreSpec("S9000", "Central Stores replenishment", Decimal("500000.00")),
        ),
    ),
    OrganisationSpec(
        key="eastbrook", name="Eastbrook Hospitals NHS Trust", kind="nhs_trust",
        parent="north-thames-ics", gs1_company=3, ods_code="R9E",
        address_line1=EASTBROOK_HOSPITAL[0], town="London", postcode="E15 4LP",
        size_band="large", customer_tier="B", credit_limit=Decimal("250000.00"),
        professional_status="verified", account_manager="manager2@demo.test",
        sites=(
            _site("Lister Ward (Respiratory)", "ward", EASTBROOK_HOSPITAL, "Level 3"),
            _site("Fleming Ward (Orthopaedics)", "ward", EASTBROOK_HOSPITAL, "Level 4"),
            _site("Main Theatres", "theatre", EASTBROOK_HOSPITAL, "Level 1"),
            SiteSpec("Stores and Distribution", "stores", "Unit 9, Lea Valley Trading Estate",
                     "London", "N18 3BH", address_line2="Angel Road"),
        ),
        cost_centres=(
            CostCentreSpec("EW310", "Lister Ward consumables", Decimal("45000.00")),
            CostCentreSpec("EW410", "Fleming Ward consumables", Decimal("50000.00")),
            CostCentreSpec("ET100", "Theatres devices", Decimal("180000.00")),
            CostCentreSpec("ES900", "Stores replenishment", Decimal("300000.00")),
        ),
    ),
    OrganisationSpec(
        key="kingsmead", name="Kingsmead Healthcare NHS Trust", kind="nhs_trust",
        parent="north-thames-ics", gs1_company=4, ods_code="R9K",
        address_line1=KINGSMEAD_HOSPITAL[0], town="London", postcode="NW10 7NS",
        size_band="large", customer_tier="B", credit_limit=Decimal("200000.00"),
        professional_status="verified", account_manager="manager2@demo.test",
        sites=(
            _site("Cavell Ward (Cardiology)", "ward", KINGSMEAD_HOSPITAL, "Tower Block, Level 5"),
            _site("Bevan Ward (Renal)", "ward", KINGSMEAD_HOSPITAL, "Tower Block, Level 6"),
            _site("Cardiac Catheter Theatres", "theatre", KINGSMEAD_HOSPITAL, "Heart Centre"),
            SiteSpec("Park Royal Stores", "stores", "14 Chase Road", "London", "NW10 6QD"),
        ),
        cost_centres=(
            CostCentreSpec("KC510", "Cavell Ward consumables", Decimal("42000.00")),
            CostCentreSpec("KR610", "Bevan Ward consumables", Decimal("38000.00")),
            CostCentreSpec("KT200", "Catheter theatres devices", Decimal("220000.00")),
            CostCentreSpec("KS900", "Stores replenishment", Decimal("260000.00")),
        ),
    ),
    OrganisationSpec(
        key="west-yorkshire-ics", name="West Yorkshire ICS", kind="ics", gs1_company=5,
        ods_code="Q7W", address_line1="Aire House, 12 Wellington Street", town="Leeds",
        postcode="LS1 4DL", size_band="large", customer_tier="B",
        account_manager="manager2@demo.test",
    ),
    OrganisationSpec(
        key="northgate", name="Northgate Hospitals NHS Trust", kind="nhs_trust",
        parent="west-yorkshire-ics", gs1_company=6, ods_code="R9N",
        address_line1=NORTHGATE_LEEDS[0], town="Leeds", postcode="LS9 6TA",
        size_band="enterprise", customer_tier="B", credit_limit=Decimal("400000.00"),
        professional_status="verified", account_manager="manager2@demo.test",
        sites=(
            _site("Ward 12 (Vascular Surgery)", "ward", NORTHGATE_LEEDS, "Chancellor Wing"),
            _site("Ward 15 (Trauma and Orthopaedics)", "ward", NORTHGATE_LEEDS, "Chancellor Wing"),
            _site("Ward 4 (Stroke)", "ward", NORTHGATE_WAKEFIELD, "Rowan Block"),
            _site("Leeds Theatres", "theatre", NORTHGATE_LEEDS, "Theatre Suite, Level 1"),
            _site("Wakefield Theatres", "theatre", NORTHGATE_WAKEFIELD, "Theatre Suite"),
            SiteSpec("Supplies Hub", "stores", "Unit 3, Calder Park", "Wakefield", "WF4 3HX",
                     address_line2="Denby Dale Road"),
        ),
        cost_centres=(
            CostCentreSpec("NV120", "Ward 12 consumables", Decimal("52000.00")),
            CostCentreSpec("NO150", "Ward 15 consumables", Decimal("58000.00")),
            CostCentreSpec("NS040", "Ward 4 consumables", Decimal("36000.00")),
            CostCentreSpec("NT100", "Theatres devices", Decimal("310000.00")),
            CostCentreSpec("NH900", "Supplies hub replenishment", Decimal("420000.00")),
        ),
    ),
    OrganisationSpec(
        key="westcountry-clinics", name="Westcountry Clinics Group", kind="clinic_group",
        gs1_company=7, address_line1="14 Southernhay East", town="Exeter", postcode="EX1 1QD",
        industry="Private healthcare", size_band="medium", customer_tier="B",
        credit_limit=Decimal("25000.00"), account_manager="manager2@demo.test",
    ),
    OrganisationSpec(
        key="harbour", name="Harbour Physiotherapy Clinic", kind="private_clinic",
        parent="westcountry-clinics", gs1_company=8,
        address_line1="The Old Customs House, 9 Vauxhall Quay", town="Plymouth",
        postcode="PL4 0DQ", industry="Physiotherapy", size_band="small", customer_tier="B",
        credit_limit=Decimal("15000.00"), payment_terms_days=30, professional_status="verified",
        account_manager="manager@demo.test",
        sites=(
            SiteSpec("Barbican Clinic", "clinic", "The Old Customs House, 9 Vauxhall Quay",
                     "Plymouth", "PL4 0DQ"),
            SiteSpec("Mannamead Clinic", "clinic", "31 Mutley Plain", "Plymouth", "PL4 6LE"),
        ),
        cost_centres=(CostCentreSpec("HPC-OPS", "Clinic consumables", Decimal("18000.00")),),
    ),
    OrganisationSpec(
        key="exe-valley", name="Exe Valley Podiatry Clinic", kind="private_clinic",
        parent="westcountry-clinics", gs1_company=9, address_line1="27 Magdalen Road",
        town="Exeter", postcode="EX2 4TA", industry="Podiatry", size_band="micro",
        customer_tier="C", credit_limit=Decimal("5000.00"), professional_status="pending",
        account_manager="manager2@demo.test",
        sites=(
            SiteSpec("Magdalen Road Clinic", "clinic", "27 Magdalen Road", "Exeter", "EX2 4TA"),
        ),
    ),
    OrganisationSpec(
        key="kelvin", name="Kelvin Spine and Joint Clinic", kind="private_clinic", gs1_company=10,
        address_line1="41 Kelvin Way", town="Glasgow", postcode="G3 7RZ",
        industry="Musculoskeletal care", size_band="small", customer_tier="C",
        credit_limit=Decimal("8000.00"), professional_status="verified",
        account_manager="manager2@demo.test",
        sites=(SiteSpec("Kelvin Way Clinic", "clinic", "41 Kelvin Way", "Glasgow", "G3 7RZ"),),
    ),
    OrganisationSpec(
        key="pennine", name="Pennine Medical Supplies", kind="distributor", gs1_company=11,
        address_line1="Pennine House, 5 Millennium Way", town="Preston", postcode="PR2 5BL",
        industry="Medical distribution", size_band="large", customer_tier="A",
        credit_limit=Decimal("250000.00"), payment_terms_days=60, professional_status="verified",
        account_manager="manager@demo.test",
        sites=(
            SiteSpec("Preston Distribution Centre", "warehouse", "Pennine House, 5 Millennium Way",
                     "Preston", "PR2 5BL"),
            SiteSpec("Trafford Park Depot", "warehouse", "Unit 22, Westinghouse Road",
                     "Manchester", "M17 1PY", address_line2="Trafford Park"),
        ),
    ),
    OrganisationSpec(
        key="solent", name="Solent Healthcare Distribution", kind="distributor", gs1_company=12,
        address_line1="Brunel Road, Nursling Industrial Estate", town="Southampton",
        postcode="SO16 0YB", industry="Medical distribution", size_band="medium",
        customer_tier="B", credit_limit=Decimal("120000.00"), payment_terms_days=60,
        professional_status="verified", account_manager="manager2@demo.test",
        sites=(
            SiteSpec("Nursling Distribution Centre", "warehouse",
                     "Brunel Road, Nursling Industrial Estate", "Southampton", "SO16 0YB"),
            SiteSpec("Portsmouth Cross-Dock", "warehouse", "Unit 5, Airport Service Road",
                     "Portsmouth", "PO3 5RX"),
        ),
    ),
    OrganisationSpec(
        key="mercia", name="Mercia Medical Distribution", kind="distributor", gs1_company=13,
        address_line1="Mercia Park, 220 Tyseley Lane", town="Birmingham", postcode="B11 2HF",
        industry="Medical distribution", size_band="medium", customer_tier="B",
        credit_limit=Decimal("100000.00"), payment_terms_days=60, professional_status="verified",
        account_manager="manager2@demo.test",
        sites=(
            SiteSpec("Tyseley Warehouse", "warehouse", "Mercia Park, 220 Tyseley Lane",
                     "Birmingham", "B11 2HF"),
        ),
    ),
)
