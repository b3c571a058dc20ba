"""The price-file format of the admin import (django-import-export): one row per price tier,
keyed by price list code, SKU and minimum quantity. Every row is checked; one bad row stops the
whole file."""
from decimal import Decimal, InvalidOperation

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from catalog.models import Product

from .models import Currency, PriceList, PriceListItem
from .selectors import price_lists_editable_by


class ProductBySku(ForeignKeyWidget):
    def __init__(self):
        super().__init__(Product, "sku")

    def clean(self, value, row=None, **kwargs):
        sku = str(value or "").strip().upper()
        if not sku:
            raise ValueError("SKU is missing.")
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise ValueError(f"Unknown SKU {sku!r}.")
        return product


class PriceListByCode(ForeignKeyWidget):
    def __init__(self):
        super().__init__(PriceList, "code")

    def clean(self, value, row=None, **kwargs):
        code = str(value or "").strip()
        price_list = PriceList.objects.filter(code=code).first()
        if price_list is None:
            raise ValueError(f"Unknown price list {code!r}.")
        return price_list


class PriceListItemResource(resources.ModelResource):
    price_list = fields.Field(attribute="price_list", column_name="price_list",
                              widget=PriceListByCode())
    sku = fields.Field(attribute="product", column_name="sku", widget=ProductBySku())

    class Meta:
        model = PriceListItem
        fields = ("price_list", "sku", "min_quantity", "unit_price", "min_order_qty",
                  "max_order_qty", "order_multiple")
        export_order = fields
        import_id_fields = ("price_list", "sku", "min_quantity")
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = True

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def get_queryset(self):
        queryset = super().get_queryset().select_related("price_list", "product")
        if self.user is None:
            return queryset
        return queryset.filter(price_list__in=price_lists_editable_by(self.user))

    def before_import_row(self, row, **kwargs):
        """Row checks the model cannot make: the actor's right to the list, and the currency."""
        code = str(row.get("price_list") or "").strip()
        price_list = PriceList.objects.filter(code=code).first()
        if price_list is None:
            raise ValueError(f"Unknown price list {code!r}.")
        if self.user is not None and not price_lists_editable_by(self.user).filter(
            pk=price_list.pk
        ).exists():
            raise ValueError(f"Price list {code!r} belongs to an organisation you do not manage.")
        currency = str(row.get("currency") or "").strip().upper()
        if currency and currency not in Currency.values:
            raise ValueError(f"Unknown currency {currency!r}: use GBP or EUR.")
        if currency and currency != price_list.currency:
            raise ValueError(f"Price list {code!r} is in {price_list.currency}, the row says "
                             f"{currency}.")
        try:
            if Decimal(str(row.get("unit_price")).strip()) <= 0:
                raise ValueError("A price must be more than zero.")
        except InvalidOperation as exc:
            raise ValueError(f"Not a price: {row.get('unit_price')!r}.") from exc
        for column in ("min_quantity", "min_order_qty", "order_multiple"):
            if column in row and not str(row[column] or "").strip():
                row[column] = 1
