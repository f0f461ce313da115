"""Helpers shared by the blueprints' forms."""
from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """[(value, label), …] as the SelectChoice objects WTForms expects."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def _strip(value):
    # NUL never belongs in text, and PostgreSQL refuses it.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class StrippedForm(FlaskForm):
    """A form whose text inputs lose surrounding white space before validation,
    so "   " counts as empty for DataRequired."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if (issubclass(unbound_field.field_class, (StringField, TextAreaField))
                    and not issubclass(unbound_field.field_class, PasswordField) and _strip not in filters):
                unbound_field.kwargs["filters"] = [*filters, _strip]  # the class's field, once
            return unbound_field.bind(form=form, **options)


def page_number(value: str | None, maximum: int = 100_000) -> int:
    """?page= as a page number between 1 and `maximum`, whatever was typed."""
    try:
        return min(max(int(value or 1), 1), maximum)
    except ValueError:
        return 1
