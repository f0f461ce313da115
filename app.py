"""Entry point: `flask --app app …`, `gunicorn app:app`, or `python app.py` for development.

`python app.py` serves on 127.0.0.1:5000 without the debugger; FLASK_DEBUG=1 turns it (and
reloading) on. The debugger runs any Python typed into an error page, so it is refused with
APP_ENV=production.
"""
import os
import sys

from investigations import create_app

app = create_app()

if __name__ == "__main__":
    debug = os.environ.get("FLASK_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
    if debug and app.config["PRODUCTION"]:
        sys.exit("FLASK_DEBUG=1 and APP_ENV=production do not go together: the debugger runs any code "
                 "typed into an error page. Unset FLASK_DEBUG.")
    app.run(host="127.0.0.1", port=5000, debug=debug)
