"""Users, organisations and their hierarchy, memberships with roles, sites, cost centres."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from territories.postcodes import parse_postcode

from .validators import (
    normalise_registration_number,
    validate_gln,
    validate_registration_number,
)


def _parsed_postcode(raw: str):
    """Parse a postcode field, reporting a bad one against the `postcode` field."""
    try:
        return parse_postcode(raw)
    except ValidationError as error:
        raise ValidationError({"postcode": error.messages}) from error


class UserQuerySet(models.QuerySet):
    pass


class UserAccounts(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class Regulator(models.TextChoices):
    GMC = "gmc", "General Medical Council (GMC)"
    NMC = "nmc", "Nursing and Midwifery Council (NMC)"
    HCPC = "hcpc", "Health and Care Professions Council (HCPC)"
    GPHC = "gphc", "General Pharmaceutical Council (GPhC)"


class VerificationStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Not verified"
    PENDING = "pending", "Awaiting verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address. Retail consumers belong to no organisation."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    postcode = models.CharField(
        max_length=8, blank=True, help_text="Home delivery postcode (retail consumers)."
    )
    postcode_area = models.CharField(max_length=2, blank=True, editable=False, db_index=True)
    regulator = models.CharField(max_length=8, choices=Regulator.choices, blank=True)
    registration_number = models.CharField(max_length=12, blank=True)
    registration_status = models.CharField(
        max_length=12, choices=VerificationStatus.choices, default=VerificationStatus.UNVERIFIED
    )
    registration_verified_at = models.DateTimeField(null=True, blank=True)
    direct_phone = models.CharField(
        max_length=30, blank=True,
        help_text="Staff: the direct line shown to the accounts they look after.",
    )

    objects = UserAccounts()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def clean(self):
        super().clean()
        self.email = (self.email or "").strip().lower()
        if self.postcode:
            parsed = _parsed_postcode(self.postcode)
            self.postcode, self.postcode_area = str(parsed), parsed.area
        else:
            self.postcode_area = ""
        if self.regulator or self.registration_number:
            self.registration_number = normalise_registration_number(self.registration_number)
            validate_registration_number(self.regulator, self.registration_number)
        elif self.registration_status == VerificationStatus.VERIFIED:
            raise ValidationError(
                {"registration_status": "Only a registration number can be verified."}
            )

    @property
    def is_registered_professional(self) -> bool:
        return bool(self.regulator) and self.registration_status == VerificationStatus.VERIFIED


class OrganisationKind(models.TextChoices):
    INTEGRATED_CARE_SYSTEM = "ics", "Integrated care system"
    NHS_TRUST = "nhs_trust", "NHS trust"
    PRIVATE_CLINIC = "private_clinic", "Private clinic"
    CLINIC_GROUP = "clinic_group", "Clinic group"
    DISTRIBUTOR = "distributor", "Distributor"
    GP_PRACTICE = "gp_practice", "GP practice"
    CARE_HOME = "care_home", "Care home"
    PHARMACY = "pharmacy", "Pharmacy"


class SizeBand(models.TextChoices):
    MICRO = "micro", "Micro (under 10 staff)"
    SMALL = "small", "Small (10-49)"
    MEDIUM = "medium", "Medium (50-249)"
    LARGE = "large", "Large (250-4,999)"
    ENTERPRISE = "enterprise", "Very large (5,000+)"


class CustomerTier(models.TextChoices):
    A = "A", "Tier A"
    B = "B", "Tier B"
    C = "C", "Tier C"


class ServiceTier(models.TextChoices):
    """The service an account gets: the best first. The value tier of the segmentation analysis
    proposes one; a contract or staff may set it (see segments.selectors.service_level_for)."""

    CONCIERGE = "concierge", "Concierge"
    STANDARD = "standard", "Standard"
    SELF_SERVICE = "self_service", "Self-service"


SERVICE_TIER_RANK = {ServiceTier.CONCIERGE: 0, ServiceTier.STANDARD: 1, ServiceTier.SELF_SERVICE: 2}


class Organisation(models.Model):
    """A buying organisation: a trust, clinic, distributor, practice… Parents form hierarchies."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    ods_code = models.CharField(
        "ODS code", max_length=10, blank=True, help_text="NHS Organisation Data Service code."
    )
    gln = models.CharField("legal GLN", max_length=13, blank=True, validators=[validate_gln])
    industry = models.CharField(max_length=80, blank=True)
    size_band = models.CharField(max_length=12, choices=SizeBand.choices, blank=True)
    customer_tier = models.CharField(
        max_length=1, choices=CustomerTier.choices, default=CustomerTier.C
    )
    account_manager = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_organisations",
        limit_choices_to={"is_staff": True},
    )
    service_tier = models.CharField(
        max_length=12, choices=ServiceTier.choices, blank=True,
        help_text="Set by staff; empty = from the value tier. A tier set on an active contract "
        "wins over this one.",
    )
    contract_service_tier = models.CharField(
        max_length=12, choices=ServiceTier.choices, blank=True, editable=False,
        help_text="The best tier set on the contracts that apply today (kept by pricing).",
    )
    contract_service_reference = models.CharField(max_length=60, blank=True, editable=False)
    credit_limit = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    professional_status = models.CharField(
        max_length=12, choices=VerificationStatus.choices, default=VerificationStatus.UNVERIFIED
    )
    address_line1 = models.CharField(max_length=120, blank=True)
    town = models.CharField(max_length=80, blank=True)
    postcode = models.CharField(max_length=8, blank=True, help_text="Registered address postcode.")
    postcode_area = models.CharField(max_length=2, blank=True, editable=False, db_index=True)
    integration_orders_skip_approval = models.BooleanField(
        default=False,
        help_text="Orders placed through the organisation's integration keys skip its approval "
        "rules (an order over its cost centre's budget still goes to the budget holder). Set "
        "by the organisation admin.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("manage_organisation", "Manage members, sites, cost centres and API keys"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ods_code"], condition=~Q(ods_code=""), name="organisation_ods_code_unique"
            ),
            models.UniqueConstraint(
                fields=["gln"], condition=~Q(gln=""), name="organisation_gln_unique"
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="organisation_credit_limit_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="organisation_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        self.ods_code = (self.ods_code or "").strip().upper()
        if self.postcode:
            parsed = _parsed_postcode(self.postcode)
            self.postcode, self.postcode_area = str(parsed), parsed.area
        else:
            self.postcode_area = ""
        if self.parent_id and self.pk:
            ancestor, seen = self.parent, set()
            while ancestor is not None and ancestor.pk not in seen:
                if ancestor.pk == self.pk:
                    raise ValidationError({"parent": "An organisation cannot sit below itself."})
                seen.add(ancestor.pk)
                ancestor = ancestor.parent
        if self.account_manager_id and not self.account_manager.is_staff:
            raise ValidationError({"account_manager": "The account manager must be a staff user."})

    def ancestors(self) -> list["Organisation"]:
        """Parent, grandparent, … (nearest first)."""
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


class Role(models.TextChoices):
    BUYER = "buyer", "Buyer"
    REQUISITIONER = "requisitioner", "Requisitioner"
    APPROVER = "approver", "Approver"
    BUDGET_HOLDER = "budget_holder", "Budget holder"
    ORG_ADMIN = "org_admin", "Organisation admin"


ROLE_FIELDS = {
    Role.BUYER: "is_buyer",
    Role.REQUISITIONER: "is_requisitioner",
    Role.APPROVER: "is_approver",
    Role.BUDGET_HOLDER: "is_budget_holder",
    Role.ORG_ADMIN: "is_org_admin",
}


class Membership(models.Model):
    """A user's place in one organisation: the roles held there and, for approvers, a limit."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    is_buyer = models.BooleanField("buyer", default=False)
    is_requisitioner = models.BooleanField("requisitioner", default=False)
    is_approver = models.BooleanField("approver", default=False)
    is_budget_holder = models.BooleanField("budget holder", default=False)
    is_org_admin = models.BooleanField("organisation admin", default=False)
    approval_limit = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="Highest order total (ex VAT, GBP) this approver may approve.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__name", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"],
                name="membership_one_per_user_and_organisation",
                violation_error_message="This person is already a member of this organisation.",
            ),
            models.CheckConstraint(
                condition=Q(is_approver=False) | Q(approval_limit__isnull=False),
                name="membership_approver_has_limit",
                violation_error_message="An approver needs an approval limit.",
            ),
            models.CheckConstraint(
                condition=Q(approval_limit__isnull=True) | Q(approval_limit__gte=0),
                name="membership_approval_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation}"

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(role.value for role, field in ROLE_FIELDS.items() if getattr(self, field))

    def clean(self):
        super().clean()
        if not self.roles:
            raise ValidationError("Give the member at least one role.")
        if self.is_approver and self.approval_limit is None:
            raise ValidationError({"approval_limit": "An approver needs an approval limit."})
        if not self.is_approver and self.approval_limit is not None:
            raise ValidationError({"approval_limit": "Only approvers have an approval limit."})


class SiteKind(models.TextChoices):
    WARD = "ward", "Ward"
    THEATRE = "theatre", "Theatre"
    STORES = "stores", "Stores"
    PHARMACY = "pharmacy", "Pharmacy"
    CLINIC = "clinic", "Clinic"
    WAREHOUSE = "warehouse", "Warehouse"


class Site(models.Model):
    """A delivery site or requisition point; its postcode decides the buyer's territory."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=SiteKind.choices)
    address_line1 = models.CharField(max_length=120)
    address_line2 = models.CharField(max_length=120, blank=True)
    town = models.CharField(max_length=80)
    postcode = models.CharField(max_length=8)
    postcode_area = models.CharField(max_length=2, editable=False, db_index=True)
    gln = models.CharField("GLN", max_length=13, blank=True, validators=[validate_gln])
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                name="site_name_unique_per_organisation",
                violation_error_message="This organisation already has a site with this name.",
            ),
            models.UniqueConstraint(fields=["gln"], condition=~Q(gln=""), name="site_gln_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.organisation.name}"

    def clean(self):
        super().clean()
        if self.postcode:
            parsed = _parsed_postcode(self.postcode)
            self.postcode, self.postcode_area = str(parsed), parsed.area


class CostCentre(models.Model):
    """A budget code an institutional buyer charges orders to."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="cost_centres"
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__name", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"],
                name="cost_centre_code_unique_per_organisation",
                violation_error_message=(
                    "This organisation already has a cost centre with that code."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self):
        super().clean()
        self.code = (self.code or "").strip().upper()


class Budget(models.Model):
    """A cost centre's budget for one period; `committed` grows as approved orders are charged."""

    cost_centre = models.ForeignKey(CostCentre, on_delete=models.CASCADE, related_name="budgets")
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    committed = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["cost_centre", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["cost_centre", "period_start"],
                name="budget_one_per_period_start",
                violation_error_message="This cost centre already has a budget for that period.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="budget_period_ends_after_start",
                violation_error_message="The period must end after it starts.",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.cost_centre.code} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.committed

    def clean(self):
        super().clean()
        if self.cost_centre_id and self.period_start and self.period_end:
            overlapping = Budget.objects.filter(
                cost_centre_id=self.cost_centre_id,
                period_start__lt=self.period_end,
                period_end__gt=self.period_start,
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError("This period overlaps another budget of the cost centre.")

from .keys import ApiKey, IdempotencyRecord  # noqa: E402,F401
