"""The business pages: thin views over businesses/queries.py (reading) and services.py (changing),
the same functions as the API's /api/v1/businesses."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..forms import page_number
from ..permissions import editor_only, signed_in
from . import bp
from .forms import BusinessForm, MergeBusinessForm
from .queries import business_page, case_counts, visible_cases
from .services import (
    BusinessDetails,
    BusinessNameTaken,
    MergeError,
    find_business,
    get_business_by_slug,
    merge_businesses,
    update_business,
    visible_pattern,
)


@bp.route("/businesses/")
@signed_in
def index():
    q = request.args.get("q", "").strip()[:200]
    listed = business_page(current_user, q, page_number(request.args.get("page")), current_app.config["CASES_PER_PAGE"])
    rows = [(row.business, row.case_count) for row in listed.rows]
    return render_template("businesses/index.html", rows=rows, q=q, page_number=listed.page,
                           has_next=listed.has_next)


@bp.route("/businesses/<slug>")
@signed_in
def detail(slug):
    business = get_business_by_slug(slug)
    return render_template("businesses/detail.html", business=business, cases=visible_cases(business, current_user),
                           counts=case_counts(business, current_user), pattern=visible_pattern(business, current_user))


def _edit_form(business, submitted: bool = True) -> BusinessForm:
    """The edit form over the business's details (with the request's form data when `submitted`)."""
    details = BusinessDetails.of(business)
    data = {**vars(details), "aliases": "\n".join(details.aliases)}
    return BusinessForm(data=data) if submitted else BusinessForm(formdata=None, data=data)


@bp.route("/businesses/<slug>/edit", methods=["GET", "POST"])
@editor_only
def edit(slug):
    business = get_business_by_slug(slug)
    form = _edit_form(business)
    if form.validate_on_submit():
        try:
            changed = update_business(business, BusinessDetails.from_mapping(form.data, form.aliases.data.splitlines()))
        except BusinessNameTaken as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            flash("Business details saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("businesses.detail", slug=business.slug))
    return render_template("businesses/form.html", form=form, business=business, merge_form=MergeBusinessForm())


@bp.route("/businesses/<slug>/merge", methods=["POST"])
@editor_only
def merge(slug):
    """Merge this business record (a duplicate) into the one named in the form."""
    duplicate = get_business_by_slug(slug)
    form = MergeBusinessForm()
    if form.validate_on_submit():
        survivor = find_business(form.survivor.data)
        if survivor is None:
            form.survivor.errors.append(f"No business is called “{form.survivor.data}”.")
        else:
            try:
                moved = merge_businesses(duplicate, survivor, current_user)
            except (MergeError, BusinessNameTaken) as error:
                db.session.rollback()
                form.survivor.errors.append(str(error))
            else:
                db.session.commit()
                flash(f"{duplicate.name} was merged into {survivor.name}: {moved} case{'' if moved == 1 else 's'} "
                      f"moved, and its names are now aliases.", "success")
                return redirect(url_for("businesses.detail", slug=survivor.slug))
    return render_template("businesses/form.html", form=_edit_form(duplicate, submitted=False), business=duplicate,
                           merge_form=form), 422
