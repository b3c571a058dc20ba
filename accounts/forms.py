"""Forms of sign-in and organisation self-service: they parse and check input; services write."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from territories.postcodes import normalise_postcode

from .models import ROLE_FIELDS, Budget, CostCentre, Membership, Role, Site


class IsoDateInput(forms.DateInput):
    """A browser date picker. `<input type="date">` takes ISO dates only (2026-12-11): a date
    rendered in the site's own format (11/12/2026) would show as empty and be lost on submit."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def add_validation_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        for message in messages:
            form.add_error(target, message)


class SignInForm(AuthenticationForm):
    """Email and password. Emails are stored lower-cased, so they are matched in any case."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email address and password do not match an account. "
        "Check both and try again.",
        "inactive": "This account has been closed. Ask your organisation's admin for help.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "email", "autofocus": True}
        )

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").strip().lower()


class MemberRolesForm(forms.Form):
    """The roles a member holds in the organisation and, for approvers, the approval limit."""

    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Give the member at least one role."},
    )
    approval_limit = forms.DecimalField(
        label="Approval limit (£, ex VAT)",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Required for approvers: the highest order total they may approve.",
    )

    @classmethod
    def initial_for(cls, membership: Membership) -> dict:
        return {"roles": sorted(membership.roles), "approval_limit": membership.approval_limit}

    def apply_to(self, membership: Membership) -> Membership:
        roles = set(self.cleaned_data["roles"])
        for role, field in ROLE_FIELDS.items():
            setattr(membership, field, role.value in roles)
        membership.approval_limit = self.cleaned_data["approval_limit"]
        return membership


class MemberAddForm(MemberRolesForm):
    """Add a person by email: an existing account joins, otherwise an account is made for them."""

    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        help_text="Used when this person has no account yet.",
    )
    field_order = ["email", "full_name", "roles", "approval_limit"]

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = members

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if self.members.filter(user__email=email).exists():
            raise ValidationError(
                "This person is already a member of this organisation.", code="duplicate_member"
            )
        return email


class SiteForm(forms.ModelForm):
    """A delivery site of the active organisation; the postcode is checked and put in UK form."""

    class Meta:
        model = Site
        fields = ["name", "kind", "address_line1", "address_line2", "town", "postcode", "gln"]
        labels = {"address_line1": "Address", "address_line2": "Address line 2", "gln": "GLN"}
        help_texts = {"gln": "Optional: the site's 13-digit GS1 Global Location Number."}

    def clean_postcode(self):
        return normalise_postcode(self.cleaned_data["postcode"])


class SiteEditForm(SiteForm):
    class Meta(SiteForm.Meta):
        fields = [*SiteForm.Meta.fields, "is_active"]
        labels = {**SiteForm.Meta.labels, "is_active": "Active (orders can be delivered here)"}


class CostCentreForm(forms.ModelForm):
    class Meta:
        model = CostCentre
        fields = ["code", "name", "is_active"]
        labels = {"is_active": "Active (orders can be charged to it)"}


class BudgetForm(forms.ModelForm):
    class Meta:
        model = Budget
        fields = ["period_start", "period_end", "amount"]
        labels = {"amount": "Budget (£, ex VAT)"}
        widgets = {
            "period_start": IsoDateInput(),
            "period_end": IsoDateInput(),
        }
