"""Which region a postcode area lies in: the one territory fact the resolver needs."""

from .models import Territory


def region_for_area(area: str | None) -> Territory | None:
    if not area:
        return None
    return Territory.objects.filter(is_region=True, areas__code=area).first()
