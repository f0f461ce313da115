"""Helpers shared by the blueprints' forms."""
from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """[(value, label), …] as the SelectChoice objects WTForms expects."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class StrippedForm(FlaskForm):
    """A form whose text inputs lose surrounding white space before validation,
    so "   " counts as empty for DataRequired."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, (StringField, TextAreaField)) and not issubclass(
                    unbound_field.field_class, PasswordField):
                unbound_field.kwargs["filters"] = [*unbound_field.kwargs.get("filters", []), _strip]
            return unbound_field.bind(form=form, **options)
