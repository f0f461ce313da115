"""Helpers shared by the blueprints' forms."""
from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """[(value, label), …] as the SelectChoice objects WTForms expects."""
    return [SelectChoice(str(value), label) for value, label in pairs]
