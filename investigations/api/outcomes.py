"""Outcomes and stories: record what a case got back for the complainant, and the stories
published about it. The same services and rules as the case page (outcomes/services.py)."""
from datetime import date

from marshmallow import Schema, fields, validate

from .. import validators as rules
from ..cases.queries import find_visible_case
from ..extensions import db
from ..models.cases import CURRENCIES
from ..models.outcomes import OUTCOME_KINDS, STORY_FORMATS
from ..outcomes.services import NOTE_MAX, OutcomeData, OutcomeInvalid, StoryData, add_story, save_outcome
from ..permissions import can_edit_case
from .auth import ApiBlueprint
from .cases import REFERENCE, me, with_case
from .errors import fail
from .schemas import CaseSchema, StorySchema
from .schemas.field_types import (
    MAX_AMOUNT,
    StrictBoolean,
    Text,
    _describe,
    _whole,
    optional_text,
    plausible_date_field,
    required_text,
)

blp = ApiBlueprint("api_outcomes", __name__, tag="Outcomes and stories", description=(
    "What a case got back for the complainant (its outcome: what happened, money recovered in its own "
    "currency, the date) and the stories published about it. A story can cover several cases."))

STORY_CASES_MAX = 50


class OutcomeInputSchema(Schema):
    kind = Text(required=True, validate=validate.OneOf(list(OUTCOME_KINDS)),
                metadata=_describe("What happened: " + ", ".join(OUTCOME_KINDS) + "."))
    money_recovered = fields.Decimal(places=2, as_string=True, allow_none=True, allow_nan=True,
                                     validate=rules.for_schema(rules.amount), metadata={
                                         "minimum": 0, "maximum": MAX_AMOUNT, "description": (
                                             "Money recovered for the complainant (not the amount in dispute): "
                                             "a number or a decimal string, 300.00. Null: none, or unknown.")})
    currency = Text(allow_none=True, validate=validate.OneOf(CURRENCIES),
                    metadata=_describe("The currency of money_recovered; default: the case's currency."))
    amount_unknown = StrictBoolean(load_default=False, metadata=_describe(
        "Money came back but the amount is not known (then leave money_recovered null; both answer 409)."))
    outcome_on = plausible_date_field(load_default=date.today, metadata=_describe(
        "Default: today. Not before the complaint was received (409)."))
    note = optional_text(NOTE_MAX)


class StoryInputSchema(Schema):
    outlet = required_text(200, metadata=_describe("The paper, station or site that published it."))
    headline = required_text(300)
    url = Text(allow_none=True, validate=rules.for_schema(rules.website_url), metadata={
        "pattern": _whole(rules.WEBSITE_PATTERN), "maxLength": rules.WEBSITE_MAX,
        "description": "An http:// or https:// address. A story already recorded with it is linked, not copied."})
    published_on = plausible_date_field(load_default=date.today, metadata=_describe("Default: today."))
    format = Text(load_default="article", validate=validate.OneOf(list(STORY_FORMATS)),
                  metadata=_describe(", ".join(STORY_FORMATS) + "."))
    also_about = fields.List(Text(validate=validate.Regexp(f"^{REFERENCE.pattern}$"), metadata={
        "pattern": f"^{REFERENCE.pattern}$"}), load_default=list, validate=validate.Length(max=STORY_CASES_MAX),
        metadata=_describe("References of other cases it covers (a pattern story about one business): each "
                           "one you may change, or 409."))


@blp.route("/cases/<reference>/outcome", methods=["PUT"])
@with_case(editable=True)
@blp.arguments(OutcomeInputSchema)
@blp.response(200, CaseSchema)
@blp.problem(403)
@blp.problem(404)
@blp.problem(409, "The outcome conflicts with the case (dated before the complaint) or with itself.")
def put_outcome(data, case):
    """Record or change a case's outcome

    Writes a timeline entry and an audit event, as on the case page. Money recovered is kept with
    its own currency: totals are never added across currencies.
    """
    try:
        save_outcome(case, OutcomeData(kind=data["kind"], outcome_on=data["outcome_on"],
                                       money_recovered=data.get("money_recovered"), currency=data.get("currency"),
                                       amount_unknown=data["amount_unknown"], note=data.get("note")), me())
    except OutcomeInvalid as error:
        db.session.rollback()
        fail(409, str(error), errors={name: [message] for name, message in error.errors.items()})
    db.session.commit()
    return case


@blp.route("/cases/<reference>/stories", methods=["POST"])
@with_case(editable=True)
@blp.arguments(StoryInputSchema)
@blp.response(201, StorySchema)
@blp.problem(403)
@blp.problem(404)
@blp.problem(409, "A case in also_about you may not change (or that does not exist), or a story that conflicts.")
def post_story(data, case):
    """Link a published story to a case

    And to the other cases in `also_about`. Each newly linked case gets a timeline entry.
    """
    others = []
    for reference in dict.fromkeys(r.upper() for r in data["also_about"]):
        other = find_visible_case(reference, me())
        if other is None or other.merged_into_id is not None or not can_edit_case(me(), other):
            fail(409, f"{reference}: no case you may change has this reference.",
                 errors={"also_about": [f"{reference} is not a case you may change."]})
        if other.id != case.id:
            others.append(other)
    try:
        story, _ = add_story([case, *others], StoryData(outlet=data["outlet"], headline=data["headline"],
                                                        published_on=data["published_on"], format=data["format"],
                                                        url=data.get("url")), me())
    except OutcomeInvalid as error:
        db.session.rollback()
        fail(409, str(error), errors={name: [message] for name, message in error.errors.items()})
    db.session.commit()
    return story, 201
