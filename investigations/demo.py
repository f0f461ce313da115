"""`flask demo seed`: a synthetic newsroom archive for demos, benchmarks and tests."""
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Fill the database with synthetic demo data.")
