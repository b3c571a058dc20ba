"""Forms of the cart and checkout pages: they parse input only; services decide."""

import datetime

from django import forms

from accounts.forms import IsoDateInput

from .models import DeliveryOption


class AddToCartForm(forms.Form):
    product = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, max_value=100000, initial=1)


class QuickOrderForm(forms.Form):
    lines = forms.CharField(
        label="SKU and quantity, one per line", required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="For example: WC-10422 20",
    )
    file = forms.FileField(
        label="Or upload a CSV file", required=False,
        help_text="Two columns, sku and quantity, with or without a header row.",
    )

    def clean(self):
        data = super().clean()
        if not data.get("lines", "").strip() and not data.get("file"):
            raise forms.ValidationError("Paste some lines or choose a CSV file.")
        return data


class AddressForm(forms.Form):
    name = forms.CharField(label="Full name", max_length=150)
    address = forms.CharField(label="Address", widget=forms.Textarea(attrs={"rows": 3}))
    postcode = forms.CharField(label="Postcode", max_length=8)


class ReliefForm(forms.Form):
    """The VAT-relief declaration: its own page and its own tick, apart from placing the order."""

    claim = forms.ChoiceField(
        label="Do you want to claim VAT relief on the eligible items?",
        choices=[("yes", "Yes, I am eligible or buying for someone who is"),
                 ("no", "No, pay VAT")],
        widget=forms.RadioSelect,
    )
    full_name = forms.CharField(label="Name of the disabled person", max_length=150,
                                required=False)
    address = forms.CharField(label="Their address", required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    condition = forms.CharField(label="Their condition or disability", max_length=250,
                                required=False)
    signed_on_behalf = forms.BooleanField(
        label="I am signing on behalf of this person", required=False
    )
    signer_name = forms.CharField(label="Your name", max_length=150, required=False)
    signer_relationship = forms.CharField(
        label="Your relationship to them", max_length=80, required=False,
        help_text="For example: parent, carer, partner.",
    )
    confirmed = forms.BooleanField(
        label=("I declare that the information above is correct and that the goods are for the "
               "personal or domestic use of the person named."),
        required=False,
    )


def _delivery_choices(field: forms.ChoiceField, delivery_options) -> None:
    """Offer the delivery options of the buyer's service level; one option alone is hidden."""
    labels = dict(DeliveryOption.choices)
    field.choices = [(code, labels[code]) for code in delivery_options or
                     [DeliveryOption.STANDARD]]
    if len(field.choices) == 1:
        field.widget = forms.HiddenInput()
    field.initial = DeliveryOption.STANDARD


class PaymentForm(forms.Form):
    """The consumer's last step. Priority next-day delivery is a choice of concierge customers
    only: another option posted is an error at its field."""

    delivery_option = forms.ChoiceField(label="Delivery", required=False)
    card_number = forms.CharField(label="Card number", max_length=23)
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, delivery_options=(), **kwargs):
        super().__init__(*args, **kwargs)
        _delivery_choices(self.fields["delivery_option"], delivery_options)


class InstitutionalForm(forms.Form):
    """An organisation's checkout details. Only the delivery options the buyer's service level
    offers are valid choices: another one posted is an error at its field."""

    po_number = forms.CharField(label="PO number", max_length=40, required=False)
    cost_centre = forms.TypedChoiceField(label="Cost centre", coerce=int, required=False,
                                         empty_value=None)
    requested_delivery_date = forms.DateField(
        label="Requested delivery date", required=False,
        widget=IsoDateInput(),
    )
    contract = forms.TypedChoiceField(label="Contract", coerce=int, required=False,
                                      empty_value=None)
    delivery_option = forms.ChoiceField(label="Delivery", required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, cost_centres=(), contracts=(), delivery_options=(), **kwargs):
        super().__init__(*args, **kwargs)
        _delivery_choices(self.fields["delivery_option"], delivery_options)
        self.fields["cost_centre"].choices = [("", "Choose…")] + [
            (c.pk, f"{c.code} {c.name}") for c in cost_centres
        ]
        self.fields["contract"].choices = [("", "Best price for each line")] + [
            (c.pk, str(c)) for c in contracts
        ]
        if not self.is_bound:
            self.fields["requested_delivery_date"].initial = (
                datetime.date.today() + datetime.timedelta(days=7)
            )


class RoutedAnswerForm(forms.Form):
    expected_delivery_date = forms.DateField(
        label="Expected delivery date", required=False,
        widget=IsoDateInput(),
    )
    reason = forms.CharField(label="Reason for declining", required=False, max_length=500)


class RequisitionListForm(forms.Form):
    name = forms.CharField(label="List name", max_length=80,
                           help_text="For example: Florence Ward weekly top-up")
    shared = forms.BooleanField(
        label="Share with colleagues in my organisation (they may use it, not change it)",
        required=False,
    )

    def __init__(self, *args, shareable=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not shareable:
            del self.fields["shared"]


class RenameListForm(forms.Form):
    name = forms.CharField(label="New name", max_length=80)


class ListLineAddForm(forms.Form):
    sku = forms.CharField(label="SKU", max_length=32)
    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=100000, initial=1)


class SaveCartAsListForm(forms.Form):
    """Save the cart as a new list (a name) or over one of the buyer's lists (replacing its
    lines)."""

    name = forms.CharField(label="New list name", max_length=80, required=False)
    replace = forms.TypedChoiceField(label="Or replace the lines of", coerce=int, required=False,
                                     empty_value=None)

    def __init__(self, *args, own_lists=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replace"].choices = [("", "— a new list —")] + [
            (rl.pk, rl.name) for rl in own_lists
        ]
        if not own_lists:
            del self.fields["replace"]

    def clean(self):
        data = super().clean()
        if not data.get("replace") and not (data.get("name") or "").strip():
            raise forms.ValidationError("Name the new list, or choose a list to replace.")
        return data
