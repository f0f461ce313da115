from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired


class AlertPreferencesForm(FlaskForm):
    saved_search_digest = BooleanField("A daily digest of new complaints matching my saved searches")
    reply_reminders = BooleanField("Reminders of right-of-reply deadlines on my cases (3 days before, and when overdue)")
    integrity_alerts = BooleanField("Integrity-check failures (audit trail or evidence files), every night they fail")


class JobActionForm(FlaskForm):
    job_id = HiddenField(validators=[DataRequired()])
