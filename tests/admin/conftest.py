import pytest

from accounts.models import OrganisationKind
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture
def superuser(db):
    return UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True)


@pytest.fixture
def manager(db):
    return UserFactory(email="manager@demo.test", full_name="Priya Shah", is_staff=True)


@pytest.fixture
def other_manager(db):
    return UserFactory(email="manager.north@demo.test", full_name="Tom Hargreaves", is_staff=True)


@pytest.fixture
def riverside(manager):
    return OrganisationFactory(
        name="Riverside University Hospitals NHS FT", ods_code="RRV", account_manager=manager
    )


@pytest.fixture
def harbour(manager):
    return OrganisationFactory(
        name="Harbour Physiotherapy Clinic", kind=OrganisationKind.PRIVATE_CLINIC,
        postcode="PL1 2AB", town="Plymouth", account_manager=manager,
    )


@pytest.fixture
def northgate(other_manager):
    return OrganisationFactory(
        name="Northgate Hospitals NHS Trust", ods_code="RNG", postcode="LS1 3EX", town="Leeds",
        account_manager=other_manager,
    )
