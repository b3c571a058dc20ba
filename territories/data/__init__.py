"""Reference data for territories: UK postcode areas and the default regions."""
