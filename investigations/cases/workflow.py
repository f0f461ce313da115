"""The investigation workflow: which status moves exist. Who may make them: permissions.py."""
from ..models.cases import Status

TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.NEW: (Status.INVESTIGATING, Status.CLOSED),
    Status.INVESTIGATING: (Status.AWAITING_RESPONSE, Status.RESOLVED, Status.PUBLISHED, Status.CLOSED),
    Status.AWAITING_RESPONSE: (Status.INVESTIGATING, Status.RESOLVED, Status.PUBLISHED, Status.CLOSED),
    Status.RESOLVED: (Status.INVESTIGATING, Status.PUBLISHED, Status.CLOSED),
    Status.PUBLISHED: (Status.CLOSED,),
    Status.CLOSED: (Status.INVESTIGATING,),
}

# What the button on the case page says for each move.
ACTION_LABELS = {
    Status.INVESTIGATING: "Start investigating",
    # Records a request made outside the app (phone, own e-mail); the letter is "Ask the business for its response".
    Status.AWAITING_RESPONSE: "Mark as asked for a response",
    Status.RESOLVED: "Mark resolved",
    Status.PUBLISHED: "Publish",
    Status.CLOSED: "Close",
}


def is_allowed_move(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]
