"""Dossiers: issue a case's PDF dossier for an audience, and download issued dossiers again.

The same services as the web's export (dossiers/services.py): what each audience sees is
decided in dossiers/audiences.py, every export is an audit event and a timeline entry, and the
file is kept so a copy can be verified later.
"""
from flask import url_for

from ..dossiers.audiences import AUDIENCES, Choices
from ..dossiers.forms import withheld_word_list
from ..dossiers.render import DossierError
from ..dossiers.services import dossier_path, issue_now, send_dossier, start_dossier
from ..extensions import db
from ..models import Dossier
from ..permissions import can_view_dossier
from .auth import ApiBlueprint
from .cases import me, with_case
from .errors import fail
from .schemas import DossierInputSchema

blp = ApiBlueprint("api_dossiers", __name__, tag="Dossiers", description=(
    "PDF dossiers of a case for the newsroom, a news outlet or the BBB / a regulator."))

PDF = {"type": "string", "format": "binary"}
DOSSIER_HEADERS = {
    "X-Dossier-Id": {"description": "The dossier's number.", "schema": {"type": "integer"}},
    "X-Dossier-SHA256": {"description": "The SHA-256 of the PDF, as recorded in the audit trail.",
                         "schema": {"type": "string"}},
}


def pdf_response(dossier: Dossier, status: int = 200):
    response = send_dossier(dossier)
    response.status_code = status
    response.headers.update({"X-Dossier-Id": str(dossier.id), "X-Dossier-SHA256": dossier.sha256 or ""})
    return response


@blp.route("/cases/<reference>/dossier", methods=["POST"])
@with_case()
@blp.arguments(DossierInputSchema, required=False)
@blp.response(201, PDF, content_type="application/pdf", description="The dossier (PDF), as an attachment.",
              headers={**DOSSIER_HEADERS, "Location": {"description": "Where to download it again.",
                                                       "schema": {"type": "string"}}})
@blp.problem(404)
@blp.problem(409, "No dossier could be issued (e.g. a stored evidence file is missing); `detail` says why.")
def export_case_dossier(data, case):
    """Export a case's dossier (PDF)

    For `audience` internal, news or bbb (default). Outside audiences get no internal timeline
    entries, no withdrawn evidence and no staff names, and the complainant only with consent: their
    recorded name, e-mail, phone and address are withheld wherever they are written.
    The export is recorded in the audit trail and on the case's timeline.
    """
    choices = Choices(withheld_word_list("\n".join(data["withheld_words"])), data["with_photos"])
    dossier = start_dossier(AUDIENCES[data["audience"]], me(), case=case, with_originals=data["with_originals"],
                            choices=choices)
    try:
        issue_now(dossier)
    except DossierError as error:
        db.session.rollback()
        fail(409, str(error))
    response = pdf_response(dossier, 201)
    response.headers["Location"] = url_for("api_dossiers.download_dossier", dossier_id=dossier.id, _external=True)
    return response


@blp.route("/dossiers/<int:dossier_id>", methods=["GET"])
@blp.response(200, PDF, content_type="application/pdf", description="The dossier (PDF), as an attachment.",
              headers=DOSSIER_HEADERS)
@blp.problem(404)
def download_dossier(dossier_id):
    """Download an issued dossier again

    Case dossiers of cases you may see; business dossiers for editors.
    """
    dossier = db.session.get(Dossier, dossier_id)
    if not can_view_dossier(me(), dossier):
        fail(404)
    if not dossier.is_ready or not dossier_path(dossier).is_file():
        fail(404, "This dossier's file is not available.")
    return pdf_response(dossier)
