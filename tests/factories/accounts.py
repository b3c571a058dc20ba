import datetime
from decimal import Decimal

import factory

from accounts import services
from accounts.models import (
    Budget,
    CostCentre,
    Membership,
    Organisation,
    OrganisationKind,
    Site,
    SiteKind,
    User,
)

DEMO_PASSWORD = "demo-pass-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@demo.test")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.full_clean(exclude=["password"])
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Example Hospitals NHS Trust {n}")
    kind = OrganisationKind.NHS_TRUST
    customer_tier = "B"
    postcode = "SE1 7EH"
    address_line1 = "Westminster Bridge Road"
    town = "London"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.organisation_save(organisation=model_class(*args, **kwargs))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    is_buyer = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.membership_save(membership=model_class(*args, **kwargs))


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Ward {n}")
    kind = SiteKind.WARD
    address_line1 = "1 Hospital Road"
    town = "London"
    postcode = "SE1 7EH"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.site_save(site=model_class(*args, **kwargs))


class CostCentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostCentre

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"CC{n:04d}")
    name = "Ward consumables"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.cost_centre_save(cost_centre=model_class(*args, **kwargs))


class BudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Budget

    cost_centre = factory.SubFactory(CostCentreFactory)
    period_start = datetime.date(2026, 4, 1)
    period_end = datetime.date(2027, 3, 31)
    amount = Decimal("50000.00")
