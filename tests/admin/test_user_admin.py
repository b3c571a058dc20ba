from django.urls import reverse

from accounts.models import User, VerificationStatus
from tests.admin.forms import post_data
from tests.factories import UserFactory


def test_staff_adds_a_person_by_email(client, superuser):
    client.force_login(superuser)

    response = client.post(reverse("admin:accounts_user_add"), {
        "email": "New.Nurse@Demo.Test", "full_name": "Aisha Khan", "usable_password": "true",
        "password1": "a-long-Passphrase-2026", "password2": "a-long-Passphrase-2026",
    })

    assert response.status_code == 302
    added = User.objects.get(full_name="Aisha Khan")
    assert added.email == "new.nurse@demo.test"
    assert added.check_password("a-long-Passphrase-2026")


def test_email_already_taken_is_a_field_error(client, superuser):
    UserFactory(email="nhs.buyer@demo.test")
    client.force_login(superuser)

    response = client.post(reverse("admin:accounts_user_add"), {
        "email": "nhs.buyer@demo.test", "full_name": "Someone Else", "usable_password": "true",
        "password1": "a-long-Passphrase-2026", "password2": "a-long-Passphrase-2026",
    })

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(email="nhs.buyer@demo.test").count() == 1


def _change(client, person, **fields):
    url = reverse("admin:accounts_user_change", args=[person.pk])
    data = post_data(client.get(url))
    data.update(fields)
    return client.post(url, data)


def test_verifying_a_registration_stamps_the_date(client, superuser):
    nurse = UserFactory(regulator="nmc", registration_number="12A3456E",
                        registration_status=VerificationStatus.PENDING)
    client.force_login(superuser)

    response = _change(client, nurse, registration_status="verified")

    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.registration_status == VerificationStatus.VERIFIED
    assert nurse.registration_verified_at is not None


def test_withdrawing_verification_clears_the_date(client, superuser):
    nurse = UserFactory(regulator="nmc", registration_number="12A3456E")
    client.force_login(superuser)
    _change(client, nurse, registration_status="verified")

    response = _change(client, nurse, registration_status="rejected")

    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.registration_verified_at is None


def test_invalid_registration_number_is_a_field_error(client, superuser):
    doctor = UserFactory()
    client.force_login(superuser)

    response = _change(client, doctor, regulator="gmc", registration_number="70123")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "7 digits" in errors["registration_number"][0]
    doctor.refresh_from_db()
    assert doctor.regulator == ""


def test_invalid_home_postcode_is_a_field_error(client, superuser):
    patient = UserFactory(email="patient@demo.test", postcode="SE1 7EH")
    client.force_login(superuser)

    response = _change(client, patient, postcode="not a postcode")

    assert response.status_code == 200
    assert "postcode" in response.context["adminform"].form.errors
    patient.refresh_from_db()
    assert patient.postcode == "SE1 7EH"
