"""Every area's terminal commands (`flask users …`, `flask search …`), registered on the app.

Each group lives in its area's own cli.py; this only puts them together."""


def init_app(app):
    from .admin.cli import audit_cli
    from .api.cli import token_command
    from .auth.cli import users_cli
    from .backup.cli import backup_cli
    from .demo import demo_cli
    from .dossiers.cli import dossier_cli
    from .evidence.cli import evidence_cli
    from .imports.cli import import_cli
    from .jobs.cli import jobs_cli
    from .search.cli import search_cli

    users_cli.add_command(token_command)
    for group in (users_cli, audit_cli, evidence_cli, dossier_cli, search_cli, import_cli, demo_cli, backup_cli,
                  jobs_cli):
        app.cli.add_command(group)
