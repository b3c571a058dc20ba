"""The admin's "preview as buyer" picker, one for every preview (prices, front-page blocks): an
organisation and optionally one of its sites, or a retail consumer by email, resolved through the
resolver as one of the organisation's members would be. Staff choose among the organisations they
look after."""

from django import forms

from accounts.models import Membership, Organisation, Site, User

from .resolver import BuyerContext, resolve


class BuyerPickerForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), required=False,
        help_text="Leave empty to preview as a retail consumer.",
    )
    site = forms.ModelChoiceField(queryset=Site.objects.none(), required=False)
    consumer = forms.EmailField(required=False, help_text="A retail consumer's email (optional).")

    def __init__(self, *args, scope=None, **kwargs):
        """`scope`: the organisation ids this staff member may pick (None: all)."""
        super().__init__(*args, **kwargs)
        organisations = Organisation.objects.filter(is_active=True)
        if scope is not None:
            organisations = organisations.filter(pk__in=scope)
        self.fields["organisation"].queryset = organisations
        self.fields["site"].queryset = Site.objects.filter(organisation__in=organisations)

    def clean(self):
        cleaned = super().clean()
        site, organisation = cleaned.get("site"), cleaned.get("organisation")
        if site is not None and (organisation is None or site.organisation_id != organisation.pk):
            raise forms.ValidationError("Choose a site of the chosen organisation.")
        return cleaned

    def buyer(self) -> tuple[BuyerContext | None, str]:
        """The chosen buyer, or None and why there is none to preview as."""
        data = self.cleaned_data
        organisation = data.get("organisation")
        if organisation is None:
            consumer = None
            if data.get("consumer"):
                consumer = User.objects.filter(email=data["consumer"].lower()).first()
                if consumer is None:
                    return None, "No consumer has that email."
            return resolve(consumer), ""
        member = (
            Membership.objects.filter(organisation=organisation, is_active=True,
                                      user__is_active=True)
            .select_related("user").order_by("id").first()
        )
        if member is None:
            return None, f"{organisation} has no active members to preview as."
        return resolve(member.user, organisation=organisation, site=data.get("site")), ""
