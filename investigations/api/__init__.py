"""The JSON API under /api/v1, for scripts and other newsroom tools (bearer tokens)."""


def init_app(app) -> None:
    """Register the API's routes and its OpenAPI document (filled in by the API's modules)."""
