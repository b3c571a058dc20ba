"""The people of the demo world: the logins of DEMO.md (kept stable), a few more members and
consumers around them, and the staff who manage accounts. Every password is DEMO_PASSWORD."""
from dataclasses import dataclass
from decimal import Decimal

DEMO_PASSWORD = "demo-pass-2026"


@dataclass(frozen=True)
class PersonSpec:
    email: str
    full_name: str
    who: str
    postcode: str = ""
    staff: bool = False
    superuser: bool = False
    regulator: str = ""
    registration_number: str = ""
    registration_verified: bool = False


@dataclass(frozen=True)
class MemberSpec:
    email: str
    organisation: str
    roles: tuple[str, ...]
    approval_limit: Decimal | None = None


PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec("nhs.buyer@demo.test", "Priya Shah", "ward purchaser"),
    PersonSpec("nhs.approver@demo.test", "Daniel Okafor", "procurement lead"),
    PersonSpec("nhs.budget@demo.test", "Helen Marsh", "finance"),
    PersonSpec("nhs.admin@demo.test", "Tom Gallagher", "procurement admin"),
    PersonSpec("trust2.buyer@demo.test", "Sarah Whitfield", "theatre buyer"),
    PersonSpec("clinic.buyer@demo.test", "Megan Trelawny", "practice manager"),
    PersonSpec("distributor.north@demo.test", "Gareth Lomax", "stock controller"),
    PersonSpec("distributor.south@demo.test", "Nicola Reeves", "stock controller"),
    PersonSpec("multi@demo.test", "Dr Anil Mehta", "consultant buying for two places"),
    PersonSpec("patient@demo.test", "Margaret Ellis", "retail consumer", postcode="SE22 8EF"),
    PersonSpec(
        "carer@demo.test", "Rhys Morgan", "carer for a disabled relative", postcode="CF14 4XW"
    ),
    PersonSpec("manager@demo.test", "Claire Donovan", "account manager", staff=True),
    PersonSpec("admin@demo.test", "Demo Administrator", "superuser", staff=True, superuser=True),
    # Around the DEMO.md logins: more members, consumers and a second account manager.
    PersonSpec("manager2@demo.test", "Oliver Hughes", "account manager", staff=True),
    PersonSpec("rep.primary@demo.test", "Nadia Khan",
               "account manager for primary and community care", staff=True),
    PersonSpec("rep.north@demo.test", "Callum Reid",
               "account manager for the North East and Yorkshire", staff=True),
    PersonSpec(
        "physio@demo.test", "James Penrose", "physiotherapist",
        regulator="hcpc", registration_number="PH204817", registration_verified=True,
    ),
    PersonSpec(
        "theatre.nurse@demo.test", "Aisha Bello", "theatre nurse",
        regulator="nmc", registration_number="09A1234E", registration_verified=True,
    ),
    PersonSpec("eastbrook.buyer@demo.test", "Kwame Mensah", "ward purchaser"),
    PersonSpec("kingsmead.buyer@demo.test", "Laura Fitzgerald", "cardiac buyer"),
    PersonSpec("trust2.approver@demo.test", "Graham Holroyd", "procurement manager"),
    PersonSpec("exe.buyer@demo.test", "Sophie Ashworth", "podiatrist and owner"),
    PersonSpec("kelvin.buyer@demo.test", "Iain Robertson", "clinic manager"),
    PersonSpec("distributor.midlands@demo.test", "Harjit Sandhu", "stock controller"),
    PersonSpec("joan.pritchard@demo.test", "Joan Pritchard", "retail consumer", "LS6 2AB"),
    PersonSpec("aidan.byrne@demo.test", "Aidan Byrne", "retail consumer", "M20 2LS"),
    PersonSpec("fiona.campbell@demo.test", "Fiona Campbell", "retail consumer", "EH10 4BF"),
)

MEMBERS: tuple[MemberSpec, ...] = (
    MemberSpec("nhs.buyer@demo.test", "riverside", ("requisitioner",)),
    MemberSpec("nhs.approver@demo.test", "riverside", ("approver",), Decimal("5000.00")),
    MemberSpec("nhs.budget@demo.test", "riverside", ("budget_holder",)),
    MemberSpec("nhs.admin@demo.test", "riverside", ("org_admin",)),
    MemberSpec("trust2.buyer@demo.test", "northgate", ("buyer",)),
    MemberSpec("clinic.buyer@demo.test", "harbour", ("buyer",)),
    MemberSpec("distributor.north@demo.test", "pennine", ("buyer",)),
    MemberSpec("distributor.south@demo.test", "solent", ("buyer",)),
    # Riverside first: the resolver's default organisation is the earliest membership.
    MemberSpec("multi@demo.test", "riverside", ("buyer",)),
    MemberSpec("multi@demo.test", "harbour", ("buyer",)),
    MemberSpec("physio@demo.test", "harbour", ("buyer",)),
    MemberSpec("theatre.nurse@demo.test", "riverside", ("requisitioner",)),
    MemberSpec("eastbrook.buyer@demo.test", "eastbrook", ("buyer",)),
    MemberSpec("kingsmead.buyer@demo.test", "kingsmead", ("buyer",)),
    MemberSpec(
        "trust2.approver@demo.test", "northgate", ("approver", "budget_holder", "org_admin"),
        Decimal("25000.00"),
    ),
    MemberSpec("exe.buyer@demo.test", "exe-valley", ("buyer", "org_admin")),
    MemberSpec("kelvin.buyer@demo.test", "kelvin", ("buyer", "org_admin")),
    MemberSpec("distributor.midlands@demo.test", "mercia", ("buyer",)),
)

# Model-level permissions that let an account manager open the admin pages of accounts. Which
# organisations they may see and change comes from guardian object permissions set by
# accounts.services.organisation_save, so no global organisation permission is granted here.
ACCOUNT_MANAGERS_GROUP = "Account managers"
ACCOUNT_MANAGER_MODEL_PERMISSIONS = (
    "view_user", "change_user",
    "view_membership", "change_membership",
    "view_site", "change_site",
    "view_costcentre", "change_costcentre",
    "view_budget", "change_budget",
)
