"""Forms behind the accounts admin: model validation shown as field errors before any save."""

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import BaseInlineFormSet, InlineForeignKeyField
from django.utils import timezone

from territories.postcodes import normalise_postcode

from .models import (
    Membership,
    User,
    VerificationStatus,
)


class ServiceValidatedForm(forms.ModelForm):
    """Validates the whole row exactly as the write service will (`full_clean` with no field left
    out), so anything the service would refuse shows on the form instead of failing after it."""

    def _post_clean(self):
        super()._post_clean()
        if self._errors:
            return
        unsaved_parent = {
            name
            for name, field in self.fields.items()
            if isinstance(field, InlineForeignKeyField)
            and getattr(self.instance, f"{name}_id") is None
        }
        try:
            self.instance.full_clean(exclude=unsaved_parent or None)
        except ValidationError as exc:
            self._add_model_errors(exc)

    def clean_postcode(self):
        """The model reports a bad postcode for the whole row; here it shows on its field."""
        postcode = self.cleaned_data["postcode"]
        return normalise_postcode(postcode) if postcode else postcode

    def _add_model_errors(self, exc: ValidationError) -> None:
        for name, errors in exc.update_error_dict({}).items():
            if name in self.fields:
                self.add_error(name, errors)
            elif name == NON_FIELD_ERRORS:
                self.add_error(None, errors)
            else:
                label = self.instance._meta.get_field(name).verbose_name
                messages_ = ValidationError(errors).messages
                self.add_error(None, [f"{label.capitalize()}: {m}" for m in messages_])


class MembershipForm(ServiceValidatedForm):
    """Reports a duplicate membership on the person chosen, where staff look for the mistake."""

    def _post_clean(self):
        super()._post_clean()
        general = self._errors.get(NON_FIELD_ERRORS)
        if not general or "user" not in self.fields:
            return
        duplicate = next(
            c.violation_error_message
            for c in Membership._meta.constraints
            if c.name == "membership_one_per_user_and_organisation"
        )
        remaining = [e for e in general.data if duplicate not in e.messages]
        if len(remaining) == len(general.data):
            return
        if remaining:
            general.data = remaining
        else:
            del self._errors[NON_FIELD_ERRORS]
        self.add_error("user", duplicate)


class RowsTogetherFormSet(BaseInlineFormSet):
    """Checks rows of one submission against each other: each row alone validates only against
    what is already saved, so two new rows could clash and fail when the second is saved."""

    def kept_forms(self):
        return [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))
            if hasattr(form, "cleaned_data")
        ]


class SiteFormSet(RowsTogetherFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.kept_forms():
            gln = form.cleaned_data.get("gln")
            if gln and gln in seen:
                form.add_error("gln", "Another site in this form has the same GLN.")
            seen.add(gln)


class BudgetFormSet(RowsTogetherFormSet):
    def clean(self):
        super().clean()
        periods = []
        for form in self.kept_forms():
            start, end = form.cleaned_data.get("period_start"), form.cleaned_data.get("period_end")
            if not (start and end):
                continue
            if any(start < other_end and end > other_start for other_start, other_end in periods):
                form.add_error(None, "This period overlaps another budget in this form.")
            periods.append((start, end))


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class UserProfileForm(UserChangeForm):
    """Staff edit a person's details and professional registration; verifying stamps the date."""

    class Meta:
        model = User
        fields = "__all__"

    clean_postcode = ServiceValidatedForm.clean_postcode

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("registration_status")
        if status and status != VerificationStatus.VERIFIED:
            cleaned["registration_verified_at"] = None
        elif status == VerificationStatus.VERIFIED:
            newly_verified = "registration_status" in self.changed_data
            date_typed = "registration_verified_at" in self.changed_data
            if (newly_verified and not date_typed) or not cleaned.get("registration_verified_at"):
                cleaned["registration_verified_at"] = timezone.now()
        return cleaned
