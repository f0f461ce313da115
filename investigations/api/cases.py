"""Cases: list, file, read, change, move and assign them; their timeline and the business's response.

The same services as the web's case pages (cases/services.py, cases/queries.py) and the same
permission rules: a case you may not see answers 404, as on the web.
"""
import re
from dataclasses import asdict
from functools import wraps
from urllib.parse import urlencode

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from ..cases.queries import case_list_query, find_visible_case, merge_survivor, merged_message
from ..cases.services import (
    CaseDetails,
    MoveNotPermitted,
    WorkflowError,
    add_note,
    assign_case,
    assignable_users,
    change_status,
    create_case,
    log_complainant_view,
    record_business_response,
    update_case,
)
from ..extensions import db
from ..models import Case, User
from ..models.cases import Status, TimelineKind
from ..permissions import can_edit_case
from .auth import ApiBlueprint, editors_only
from .errors import fail
from .schemas import (
    AssignmentSchema,
    BusinessResponseInputSchema,
    CaseFilterSchema,
    CaseInputSchema,
    CaseListSchema,
    CaseSchema,
    CaseUpdateSchema,
    IncludeArgsSchema,
    NoteInputSchema,
    StatusChangeSchema,
    TimelineEntrySchema,
    TimelineListSchema,
)

blp = ApiBlueprint("api_cases", __name__, tag="Cases", description=(
    "Filing, reading, changing, moving and assigning cases; their timeline and the business's response. "
    "Reporters reach the cases they filed or are assigned to; editors and admins every case."))

REFERENCE = re.compile(r"C-\d{4}-\d{5,12}", re.IGNORECASE)
TOTAL_HEADER = {"X-Total-Count": {"description": "Items in all pages.", "schema": {"type": "integer"}}}
EDIT_REFUSED = "Published and closed cases are changed by editors; ask one to reopen it."


def me() -> User:
    return current_user._get_current_object()


def case_or_404(reference: str) -> Case:
    """The case if the caller may see it; 404 for anything else, as on the web."""
    if not REFERENCE.fullmatch(reference.strip()):
        fail(404)
    case = find_visible_case(reference, me())
    if case is None:
        fail(404)
    if case.merged_into_id is not None:  # the same address under the surviving case's reference
        survivor = merge_survivor(case, me())
        if request.method in ("GET", "HEAD"):
            abort(redirect(survivor_address(survivor), 308))
        fail(409, merged_message(case, survivor))
    return case


def survivor_address(survivor: Case) -> str:
    """This request's address under the surviving case's reference. Built from the route's own path
    arguments only; the query string is carried over as data, never as arguments to url_for (where
    `reference`, `endpoint` or `_external` would clash with or steer the address)."""
    path_args = dict(request.view_args or {})
    path_args["reference"] = survivor.reference
    address = url_for(request.endpoint, **path_args)
    query = urlencode(list(request.args.items(multi=True)))
    return f"{address}?{query}" if query else address


def require_editable(case: Case) -> None:
    if not can_edit_case(me(), case):
        fail(403, EDIT_REFUSED)


def with_case(editable: bool = False):
    """Declare a case route (below @blp.route and @editors_only): the view gets `case` for the
    path's `reference`. 404 unless the caller may see it, and with `editable`, 403 unless they may
    change it; both before the request's data is read, as on the web."""

    def decorator(view):
        @wraps(view)
        def case_view(*args, reference, **kwargs):
            case = case_or_404(reference)
            if editable:
                require_editable(case)
            return view(*args, case=case, **kwargs)

        return case_view

    return decorator


def case_url(case: Case) -> str:
    return url_for("api_cases.get_case", reference=case.reference, _external=True)


def paged(items: list, total: int, page: int, per_page: int):
    """A page of a list: the body and the X-Total-Count header."""
    body = {"items": items, "total": total, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page))}
    return body, 200, {"X-Total-Count": str(total)}


@blp.route("/cases", methods=["GET"])
@blp.arguments(CaseFilterSchema, location="query")
@blp.response(200, CaseListSchema, headers=TOTAL_HEADER)
def list_cases(args):
    """List the cases you may see

    Newest first (by date received), narrowed by the same filters as the web's case list.
    """
    per_page = args["per_page"] or current_app.config["CASES_PER_PAGE"]
    page = db.paginate(case_list_query(me(), args), page=args["page"], per_page=per_page, error_out=False)
    return paged(page.items, page.total, args["page"], per_page)


@blp.route("/cases", methods=["POST"])
@blp.arguments(CaseInputSchema)
@blp.response(201, CaseSchema, headers={"Location": {"description": "The new case.", "schema": {"type": "string"}}})
def create_case_view(data):
    """File a new case

    The business is found by its name or an alias, or created. The case is numbered C-YYYY-NNNNN;
    a reporter who files it is assigned to it.
    """
    case, _ = create_case(CaseDetails.from_fields(data), me())
    db.session.commit()
    return case, 201, {"Location": case_url(case)}


@blp.route("/cases/<reference>", methods=["GET"])
@with_case()
@blp.arguments(IncludeArgsSchema, location="query")
@blp.response(200, CaseSchema)
@blp.problem(404)
def get_case(args, case):
    """Read a case

    Without `?include=complainant` the complainant's name and contact details are left out. With
    it, they are included and the view is recorded in the audit trail, like the web's
    "Show contact details".
    """
    if args.get("include") == "complainant":
        log_complainant_view(case, "api")
        db.session.commit()
        case.api_complainant = case  # read by CaseSchema.complainant; absent otherwise
    return case


@blp.route("/cases/<reference>", methods=["PATCH"])
@with_case(editable=True)
@blp.arguments(CaseUpdateSchema, required=False)  # no body (or {}) changes nothing
@blp.response(200, CaseSchema)
@blp.problem(403)
@blp.problem(404)
def update_case_view(changes, case):
    """Change a case's details

    Send only the fields to change. Reporters may change their cases until an editor publishes or
    closes them (403 after that). The audit trail names the changed fields.
    """
    update_case(case, CaseDetails.from_fields({**asdict(CaseDetails.of_case(case)), **changes}))
    db.session.commit()
    return case


@blp.route("/cases/<reference>/status", methods=["POST"])
@with_case()
@blp.arguments(StatusChangeSchema)
@blp.response(200, CaseSchema)
@blp.problem(403, "A move that is not yours to make.")
@blp.problem(404)
@blp.problem(409, "A move that does not exist from the current status.")
def move_case(data, case):
    """Move a case to another status

    new → investigating → awaiting_response → resolved, published or closed. A move that does not
    exist from the current status answers 409; publishing, closing and reopening a closed case are
    editors' moves (403 for reporters). `allowed_moves` on the case says what you may do.
    """
    try:
        change_status(case, Status(data["status"]), me(), data.get("comment") or None)
    except WorkflowError as error:
        db.session.rollback()
        fail(403 if isinstance(error, MoveNotPermitted) else 409, str(error))
    db.session.commit()
    return case


@blp.route("/cases/<reference>/assignee", methods=["PUT"])
@editors_only("assign cases")
@with_case()
@blp.arguments(AssignmentSchema)
@blp.response(200, CaseSchema)
@blp.problem(403)
@blp.problem(404)
@blp.problem(409, "No active reporter or editor has this id.")
def assign_case_view(data, case):
    """Assign a case (editors)

    To an active reporter or editor, by id; `null` unassigns it. An id of no such account (none, a
    deactivated one, an admin's) answers 409. The assignment is added to the timeline.
    """
    assignee = None
    if data["assignee_id"] is not None:
        assignee = next((user for user in assignable_users() if user.id == data["assignee_id"]), None)
        if assignee is None:
            fail(409, "No active reporter or editor has this id.",
                 errors={"assignee_id": ["Choose an active reporter or editor."]})
    if assign_case(case, assignee, me()):
        db.session.commit()
    return case


@blp.route("/cases/<reference>/response", methods=["POST"])
@with_case(editable=True)
@blp.arguments(BusinessResponseInputSchema)
@blp.response(200, CaseSchema)
@blp.problem(403)
@blp.problem(404)
def business_response(data, case):
    """Record the business's response

    It stops the right-of-reply clock and is added to the timeline.
    """
    record_business_response(case, data["response"], data["received_on"], me())
    db.session.commit()
    return case


@blp.route("/cases/<reference>/timeline", methods=["GET"])
@with_case()
@blp.response(200, TimelineListSchema)
@blp.problem(404)
def list_timeline(case):
    """List a case's timeline

    Newest first: notes, calls, e-mails and meetings, and what the app wrote (opening, status
    changes, assignments, the business's response, dossier exports).
    """
    return {"items": case.timeline}


@blp.route("/cases/<reference>/timeline", methods=["POST"])
@with_case(editable=True)
@blp.arguments(NoteInputSchema)
@blp.response(201, TimelineEntrySchema)
@blp.problem(403)
@blp.problem(404)
def add_timeline_entry(data, case):
    """Add a note, call, e-mail or meeting to a case's timeline

    Internal unless `internal` is false: internal entries are left out of dossiers for news
    outlets and regulators.
    """
    entry = add_note(case, TimelineKind(data["kind"]), data["body"], me(), data.get("occurred_at"),
                     internal=data["internal"])
    db.session.commit()
    return entry, 201
