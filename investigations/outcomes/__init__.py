"""Outcomes and stories: what a case got back for the complainant, what was published about it,
and the newsroom's impact (dashboard figures, the impact report PDF).

The package imports nothing on its own: the case list, the case page and the importer use its
modules, and its blueprint lives in routes.py (registered by the app factory)."""
