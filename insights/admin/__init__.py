"""The insights app's admin: the pricing-strategy monitors."""

from django.contrib import admin

from ..models import PricingMonitor
from .monitors import PricingMonitorAdmin

admin.site.register(PricingMonitor, PricingMonitorAdmin)
