"""Evidence: upload files to a case, list them, read one's record, download the original.

Uploads go through the same services as the web's upload (evidence/services.py): files are
accepted by their content, stored content-addressed, and removed again if the transaction
fails. Downloads carry the same protective headers as the web's.
"""
from flask import send_file

from .. import audit
from ..evidence.routes import SAFE_HEADERS
from ..evidence.services import Upload as ReceivedFile
from ..evidence.services import (
    download_name,
    get_visible_evidence,
    store,
    store_uploads,
)
from ..extensions import db
from ..storage import TooLarge
from .auth import ApiBlueprint
from .cases import me, with_case
from .errors import fail
from .schemas import EvidenceListSchema, EvidenceSchema, UploadFormSchema, UploadResultSchema, UploadSchema

blp = ApiBlueprint("api_evidence", __name__, tag="Evidence", description=(
    "Files attached to cases: upload, list, read their record and custody, download the originals. "
    "Bytes are never replaced; every upload, view and download is in the file's custody log."))

BINARY = {"type": "string", "format": "binary"}


@blp.route("/cases/<reference>/evidence", methods=["GET"])
@with_case()
@blp.response(200, EvidenceListSchema)
@blp.problem(404)
def list_evidence(case):
    """List a case's evidence

    Oldest first, withdrawn files included (marked `withdrawn`).
    """
    return {"items": case.evidence}


@blp.route("/cases/<reference>/evidence", methods=["POST"])
@with_case(editable=True)
@blp.arguments(UploadSchema, location="files")
@blp.response(201, UploadResultSchema, description="At least one file was added.")
@blp.alt_response(200, schema=UploadResultSchema,
                  description="No file was added: each was refused by its content (`refused` says why).")
@blp.problem(403)
@blp.problem(404)
@blp.problem(413, "A file is over MAX_UPLOAD_MB; nothing of the upload was stored.")
def upload_evidence(files, case):
    """Upload evidence to a case

    multipart/form-data with one or more `files` and an optional `caption` and `source` for all of
    them. Files are accepted by their content (photos, PDF, text, e-mail, Word, Excel, audio, MP4);
    refused ones are listed in `refused` with the reason and the others kept: 201 when at least one
    file was added, 200 when none was.
    """
    form = blp.ARGUMENTS_PARSER.parse(UploadFormSchema(), location="form")
    uploads = [ReceivedFile(file.stream, file.filename or "upload", form["caption"], form["source"])
               for file in files["files"]]
    try:
        result = store_uploads(case, uploads, me())
    except TooLarge:
        fail(413)
    body = {"added": result.added, "refused": [{"name": name, "reason": reason} for name, reason in result.refused],
            "repeats": result.repeats}
    return body, 201 if result.added else 200


@blp.route("/evidence/<int:evidence_id>", methods=["GET"])
@blp.response(200, EvidenceSchema)
@blp.problem(404)
def get_evidence(evidence_id):
    """Read an evidence file's record

    The view is added to the file's custody log, as a view of its page on the web is.
    """
    evidence = get_visible_evidence(evidence_id, me())
    audit.record("evidence.view", evidence, via="api")
    db.session.commit()
    return evidence


@blp.route("/evidence/<int:evidence_id>/download", methods=["GET"])
@blp.response(200, BINARY, content_type="application/octet-stream",
              description="The original bytes, as an attachment named after the detected type.")
@blp.problem(404)
def download_evidence(evidence_id):
    """Download an evidence file's original

    Exactly the bytes received (check them against `sha256`). Recorded in the custody log.
    """
    evidence = get_visible_evidence(evidence_id, me())
    path = store().path_for(evidence.sha256)
    if not path.is_file():
        fail(404, "The stored file is missing. An admin should run `flask evidence verify`.")
    audit.record("evidence.download", evidence, via="api")
    db.session.commit()
    response = send_file(path, mimetype="application/octet-stream", as_attachment=True,
                         download_name=download_name(evidence), max_age=0)
    response.headers.update(SAFE_HEADERS)
    return response
