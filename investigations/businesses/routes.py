from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..forms import page_number
from ..models import Business, BusinessAlias, Case
from ..permissions import editor_only, signed_in, visible_cases_clause
from . import bp
from .forms import BusinessForm, MergeBusinessForm
from .naming import normalize_business_name
from .services import (
    BUSINESS_FIELDS,
    BusinessNameTaken,
    MergeError,
    case_counts,
    find_business,
    get_business_by_slug,
    merge_businesses,
    update_business,
    visible_pattern,
)

CASES_LISTED = 200  # the newest; the case list filtered by business shows them all


@bp.route("/businesses/")
@signed_in
def index():
    q = request.args.get("q", "").strip()[:200]
    visible_count = (
        select(func.count(Case.id))
        .where(Case.business_id == Business.id, Case.merged_into_id.is_(None), visible_cases_clause(current_user))
        .correlate(Business)
        .scalar_subquery()
    )
    query = (select(Business, visible_count.label("case_count")).options(selectinload(Business.aliases))
             .where(Business.merged_into_id.is_(None)).order_by(Business.name))  # aliases for the whole page in one query
    if q:
        normalized = normalize_business_name(q)
        alias_match = select(BusinessAlias.business_id).where(BusinessAlias.normalized_name.contains(normalized))
        query = query.where(or_(Business.normalized_name.contains(normalized), Business.id.in_(alias_match)))
    per_page = current_app.config["CASES_PER_PAGE"]
    page = page_number(request.args.get("page"))
    rows = db.session.execute(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    return render_template("businesses/index.html", rows=rows[:per_page], q=q, page_number=page,
                           has_next=len(rows) > per_page)


@bp.route("/businesses/<slug>")
@signed_in
def detail(slug):
    business = get_business_by_slug(slug)
    cases = db.session.scalars(
        select(Case)
        .where(Case.business_id == business.id, Case.merged_into_id.is_(None), visible_cases_clause(current_user))
        .order_by(Case.date_received.desc(), Case.id.desc()).limit(CASES_LISTED)
    ).all()
    return render_template("businesses/detail.html", business=business, cases=cases,
                           counts=case_counts(business, current_user), pattern=visible_pattern(business, current_user))


@bp.route("/businesses/<slug>/edit", methods=["GET", "POST"])
@editor_only
def edit(slug):
    business = get_business_by_slug(slug)
    current = {field: getattr(business, field) for field in BUSINESS_FIELDS}
    form = BusinessForm(data={**current, "aliases": "\n".join(business.alias_names)})
    if form.validate_on_submit():
        try:
            changed = update_business(business, form.data, form.aliases.data.splitlines())
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
    current = {field: getattr(duplicate, field) for field in BUSINESS_FIELDS}
    edit_form = BusinessForm(formdata=None, data={**current, "aliases": "\n".join(duplicate.alias_names)})
    return render_template("businesses/form.html", form=edit_form, business=duplicate, merge_form=form), 422
