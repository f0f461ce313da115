"""Admin → Newsroom: the newsroom's name, paper size and time zone (investigations/newsroom.py).

Until the newsroom has a name (here, or NEWSROOM_NAME), an admin who opens the start page is sent
here first: dossiers for outside recipients are signed with it."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..extensions import db
from ..forms import StrippedForm, choices
from ..models.settings import PAPER_SIZES
from ..newsroom import current_newsroom, forget_cached, save_settings, timezone_choices, timezone_problem
from ..permissions import admin_only
from . import bp

SERVER_ZONE = ""


class NewsroomForm(StrippedForm):
    name = StringField("The newsroom's name", validators=[
        DataRequired("Give the newsroom's name: it signs every dossier that goes to an outlet or a regulator."),
        Length(max=200)], description="As outside recipients should read it, e.g. \"The Dispatch consumer desk\".")
    paper_size = RadioField("Paper size of dossiers", choices=choices(PAPER_SIZES.items()), default="A4")
    timezone = SelectField("Time zone", description="Every time on screen, in exports and in dossier PDFs is shown "
                                                    "in this zone.")

    def validate_timezone(self, field):
        problem = timezone_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


@bp.route("/admin/newsroom", methods=["GET", "POST"])
@admin_only
def newsroom_settings():
    newsroom = current_newsroom()
    form = NewsroomForm(data=None if request.method == "POST" else {
        "name": newsroom.name if newsroom.named else "", "paper_size": newsroom.paper_size,
        "timezone": newsroom.timezone if newsroom.timezone_from_settings else SERVER_ZONE})
    configured = current_app_zone_label()
    form.timezone.choices = choices([(SERVER_ZONE, f"As the server is configured ({configured})"),
                                     *[(zone, zone.replace("_", " ")) for zone in timezone_choices()]])
    if form.validate_on_submit():
        changed = save_settings(form.name.data, form.paper_size.data, form.timezone.data or "", current_user)
        db.session.commit()
        forget_cached()
        flash("Newsroom settings saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("admin.newsroom_settings"))
    return render_template("admin/newsroom.html", form=form, newsroom=newsroom)


def current_app_zone_label() -> str:
    return current_app.config.get("NEWSROOM_TIMEZONE") or "the server's own zone"


@bp.before_app_request
def name_the_newsroom_first():
    """An admin opening the start page of a newsroom without a name is asked for it first."""
    if (request.endpoint == "main.index" and request.method == "GET" and current_user.is_authenticated
            and current_user.is_admin and not current_newsroom().named):
        flash("Welcome. First give the newsroom its name: it signs the dossiers you send out.", "info")
        return redirect(url_for("admin.newsroom_settings"))
    return None
