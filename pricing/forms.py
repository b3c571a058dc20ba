"""The buyer's quote request form: one line per product, "SKU quantity [target price]"."""
from decimal import Decimal, InvalidOperation

from django import forms

from catalog.models import Product


class QuoteRequestForm(forms.Form):
    lines = forms.CharField(
        label="Products",
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "GLV-NIT-M 500 0.08"}),
        help_text="One product a line: SKU, quantity and, if you have one, a target unit price "
        "ex VAT.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           help_text="Anything the account manager should know.")

    def clean_lines(self):
        parsed, problems = [], []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = raw.replace(",", " ").split()
            if not parts:
                continue
            if len(parts) not in (2, 3):
                problems.append(f"Line {number}: write SKU, quantity and an optional target price.")
                continue
            try:
                quantity = int(parts[1])
                target = Decimal(parts[2].lstrip("£")) if len(parts) == 3 else None
            except (ValueError, InvalidOperation):
                problems.append(f"Line {number}: the quantity or target price is not a number.")
                continue
            parsed.append((parts[0].upper(), quantity, target))
        if problems:
            raise forms.ValidationError(problems)
        if not parsed:
            raise forms.ValidationError("Add at least one product.")
        found = dict(
            Product.objects.filter(sku__in=[s for s, _, _ in parsed]).values_list("sku", "pk")
        )
        unknown = sorted({s for s, _, _ in parsed} - set(found))
        if unknown:
            raise forms.ValidationError(f"Unknown SKU: {', '.join(unknown)}.")
        return [(found[s], q, t) for s, q, t in parsed]
