import pytest
from django.core.exceptions import ValidationError

from territories.postcodes import normalise_postcode, parse_postcode


@pytest.mark.parametrize(
    ("raw", "expected", "area"),
    [
        ("se17eh", "SE1 7EH", "SE"),
        ("  sw1a 1aa ", "SW1A 1AA", "SW"),
        ("M1 1AE", "M1 1AE", "M"),
        ("cf10 3nq", "CF10 3NQ", "CF"),
        ("EC1A1BB", "EC1A 1BB", "EC"),
        ("W1A 0AX", "W1A 0AX", "W"),
        ("BT7 1NN", "BT7 1NN", "BT"),
        ("GY1 1AA", "GY1 1AA", "GY"),
    ],
)
def test_postcodes_are_normalised_and_give_their_area(raw, expected, area):
    parsed = parse_postcode(raw)

    assert str(parsed) == expected
    assert parsed.area == area


@pytest.mark.parametrize(
    "raw", ["", "SE1", "12345", "SE1 7E", "QE1 7EH", "SE1 7EHX", "SE1-7EH", "S E 1"]
)
def test_invalid_postcodes_are_refused_with_a_clear_message(raw):
    with pytest.raises(ValidationError) as error:
        normalise_postcode(raw)

    assert "valid UK postcode" in str(error.value)
