"""`flask import …`: bulk imports from the terminal, with a progress bar and a report."""
from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import complaints from files (CFPB, generic CSV).")
