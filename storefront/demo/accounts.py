"""Build the demo organisations, sites, cost centres, budgets and people through accounts.services,
so validation and object permissions are exactly those of a real write. Re-running updates in place:
rows are found by natural keys (email, ODS code or name, organisation and site name or code)."""
import datetime
from collections import Counter

from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from stdnum import ean

from accounts import services
from accounts.models import (
    ROLE_FIELDS,
    Budget,
    CostCentre,
    Membership,
    Organisation,
    Site,
    User,
    VerificationStatus,
)

from .organisations import ORGANISATIONS, CostCentreSpec, OrganisationSpec, SiteSpec
from .people import (
    ACCOUNT_MANAGER_MODEL_PERMISSIONS,
    ACCOUNT_MANAGERS_GROUP,
    DEMO_PASSWORD,
    MEMBERS,
    PEOPLE,
    MemberSpec,
    PersonSpec,
)

GS1_UK_DEMO_PREFIX = "506099"


def demo_gln(company: int, location: int) -> str:
    """A GLN under a fictional GS1 UK company prefix, with its check digit."""
    base = f"{GS1_UK_DEMO_PREFIX}{company:02d}{location:04d}"
    return base + ean.calc_check_digit(base)


def current_financial_year(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The NHS financial year holding `today`: 1 April to 31 March."""
    start_year = today.year if today.month >= 4 else today.year - 1
    return datetime.date(start_year, 4, 1), datetime.date(start_year + 1, 3, 31)


def _demo_password_hash() -> str:
    """One hash of the demo password shared by every demo user. Hashing is deliberately slow, so a
    re-run reuses the stored hash when it still verifies under the current hasher."""
    stored = User.objects.filter(email__in=[p.email for p in PEOPLE]).values_list(
        "password", flat=True
    )
    for encoded, _count in Counter(stored).most_common(1):
        try:
            hasher = identify_hasher(encoded)
        except ValueError:
            break
        current = hasher.algorithm == get_hasher().algorithm and not hasher.must_update(encoded)
        if current and check_password(DEMO_PASSWORD, encoded):
            return encoded
    return make_password(DEMO_PASSWORD)


def _person_save(spec: PersonSpec, password_hash: str) -> User:
    user = User.objects.filter(email=spec.email).first() or User(email=spec.email)
    user.full_name = spec.full_name
    user.postcode = spec.postcode
    user.is_staff = spec.staff
    user.is_superuser = spec.superuser
    user.is_active = True
    user.regulator = spec.regulator
    user.registration_number = spec.registration_number
    if spec.registration_verified:
        user.registration_status = VerificationStatus.VERIFIED
        user.registration_verified_at = user.registration_verified_at or timezone.now()
    user.password = password_hash
    user.full_clean()
    user.save()
    return user


def _account_managers_group() -> Group:
    group, _ = Group.objects.get_or_create(name=ACCOUNT_MANAGERS_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts", codename__in=ACCOUNT_MANAGER_MODEL_PERMISSIONS
        )
        | Permission.objects.filter(content_type__app_label="insights", codename="view_reports")
    )
    return group


def _organisation_save(
    spec: OrganisationSpec, parents: dict[str, Organisation], people: dict[str, User]
) -> Organisation:
    lookup = {"ods_code": spec.ods_code} if spec.ods_code else {"name": spec.name}
    organisation = Organisation.objects.filter(**lookup).first() or Organisation()
    organisation.name = spec.name
    organisation.kind = spec.kind
    organisation.parent = parents[spec.parent] if spec.parent else None
    organisation.ods_code = spec.ods_code
    organisation.gln = demo_gln(spec.gs1_company, 0)
    organisation.industry = spec.industry
    organisation.size_band = spec.size_band
    organisation.customer_tier = spec.customer_tier
    organisation.account_manager = people.get(spec.account_manager)
    organisation.credit_limit = spec.credit_limit
    organisation.payment_terms_days = spec.payment_terms_days
    organisation.professional_status = spec.professional_status
    organisation.address_line1 = spec.address_line1
    organisation.town = spec.town
    organisation.postcode = spec.postcode
    organisation.is_active = True
    return services.organisation_save(organisation=organisation)


def _site_save(organisation: Organisation, spec: SiteSpec, gln: str) -> Site:
    site = Site.objects.filter(organisation=organisation, name=spec.name).first() or Site(
        organisation=organisation, name=spec.name
    )
    site.kind = spec.kind
    site.address_line1 = spec.address_line1
    site.address_line2 = spec.address_line2
    site.town = spec.town
    site.postcode = spec.postcode
    site.gln = gln
    site.is_active = True
    return services.site_save(site=site)


def _cost_centre_save(
    organisation: Organisation, spec: CostCentreSpec, year: tuple[datetime.date, datetime.date]
) -> CostCentre:
    cost_centre = CostCentre.objects.filter(
        organisation=organisation, code=spec.code
    ).first() or CostCentre(organisation=organisation, code=spec.code)
    cost_centre.name = spec.name
    cost_centre.is_active = True
    cost_centre = services.cost_centre_save(cost_centre=cost_centre)
    start, end = year
    budget = Budget.objects.filter(cost_centre=cost_centre, period_start=start).first() or Budget(
        cost_centre=cost_centre, period_start=start
    )
    budget.period_end = end
    budget.amount = spec.annual_budget
    budget.full_clean()
    budget.save()
    return cost_centre


def _membership_save(spec: MemberSpec, user: User, organisation: Organisation) -> Membership:
    membership = Membership.objects.filter(user=user, organisation=organisation).first()
    membership = membership or Membership(user=user, organisation=organisation)
    for role, flag in ROLE_FIELDS.items():
        setattr(membership, flag, role in spec.roles)
    membership.approval_limit = spec.approval_limit
    membership.is_active = True
    return services.membership_save(membership=membership)


def build_accounts(*, today: datetime.date | None = None) -> dict[str, Organisation]:
    """Create or update every demo person, organisation, site, cost centre, budget and membership.

    Returns the organisations by their demo key ("riverside", "harbour", …).
    """
    year = current_financial_year(today or timezone.localdate())
    password_hash = _demo_password_hash()
    people = {spec.email: _person_save(spec, password_hash) for spec in PEOPLE}
    managers = _account_managers_group()
    for spec in PEOPLE:
        if spec.staff and not spec.superuser:
            people[spec.email].groups.add(managers)

    organisations: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:
        organisation = _organisation_save(spec, organisations, people)
        organisations[spec.key] = organisation
        for position, site in enumerate(spec.sites, start=1):
            _site_save(organisation, site, demo_gln(spec.gs1_company, position))
        for cost_centre in spec.cost_centres:
            _cost_centre_save(organisation, cost_centre, year)

    for spec in MEMBERS:
        _membership_save(spec, people[spec.email], organisations[spec.organisation])
    return organisations
