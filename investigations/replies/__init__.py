"""Right of reply: the letter that asks a business for its side, and the answer it gives online."""
from flask import Blueprint

bp = Blueprint("replies", __name__)


@bp.app_template_global()
def reply_letters(case):
    """The right-of-reply letters of a case, newest first (the case page lists them)."""
    from .letters import letters_of

    return letters_of(case)


from . import notify, routes  # noqa: E402,F401  (notify registers its job handler)
