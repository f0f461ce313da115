from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..forms import page_number
from ..models import Business, BusinessAlias, Case
from ..permissions import editor_only, signed_in, visible_cases_clause
from . import bp
from .forms import BusinessForm
from .naming import normalize_business_name
from .services import (
    BUSINESS_FIELDS,
    BusinessNameTaken,
    case_counts,
    complaint_pattern,
    get_business_by_slug,
    update_business,
)


@bp.route("/businesses/")
@signed_in
def index():
    q = request.args.get("q", "").strip()[:200]
    visible_count = (
        select(func.count(Case.id))
        .where(Case.business_id == Business.id, visible_cases_clause(current_user))
        .correlate(Business)
        .scalar_subquery()
    )
    query = (select(Business, visible_count.label("case_count")).options(selectinload(Business.aliases))
             .order_by(Business.name))  # aliases for the whole page in one query
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
        select(Case).where(Case.business_id == business.id, visible_cases_clause(current_user))
        .order_by(Case.date_received.desc()).limit(200)
    ).all()
    return render_template("businesses/detail.html", business=business, cases=cases,
                           counts=case_counts(business, current_user), pattern=complaint_pattern(cases))


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
    return render_template("businesses/form.html", form=form, business=business)
