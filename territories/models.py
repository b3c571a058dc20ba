"""Territories: named sets of UK postcode areas. Regions are the default territories."""

from django.db import models


class PostcodeArea(models.Model):
    """A UK postcode area such as "SE" or "LS" (the letters that start a postcode)."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Territory(models.Model):
    """A set of postcode areas. Each area is in exactly one region; other territories are free."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    is_region = models.BooleanField(
        default=False,
        help_text=(
            "Regions are the default territories: together they cover every postcode area once."
        ),
    )
    areas = models.ManyToManyField(PostcodeArea, related_name="territories", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "territories"

    def __str__(self) -> str:
        return self.name
