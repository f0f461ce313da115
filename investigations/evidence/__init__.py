from flask import Blueprint

bp = Blueprint("evidence", __name__)


def init_app(app):
    """Remove temporary files that a crashed process left half-written."""
    from ..storage import EvidenceStore

    EvidenceStore(app.config["EVIDENCE_DIR"]).clean_stale_temp()


from . import routes  # noqa: E402,F401
