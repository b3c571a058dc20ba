"""Turn an admin change page into the POST data a browser would send back, so tests change only
the fields they care about."""
from django.forms import CheckboxInput, MultiWidget


def _form_fields(form, data: dict) -> None:
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        if isinstance(field.widget, CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(field.widget, MultiWidget):
            parts = field.widget.decompress(value)
            for suffix, part in zip(field.widget.widgets_names, parts, strict=True):
                data[key + suffix] = "" if part is None else part
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = value


def post_data(response) -> dict:
    """The data of the admin form (and its inline formsets) rendered in `response`."""
    data: dict = {}
    _form_fields(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _form_fields(formset.management_form, data)
        for form in formset.forms:
            _form_fields(form, data)
    return data


def empty_inlines(*prefixes: str) -> dict:
    """Management data for inline formsets that carry no rows (for add forms built by hand)."""
    data = {}
    for prefix in prefixes:
        data.update({
            f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        })
    return data
