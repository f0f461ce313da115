"""Entry point: `flask --app app …`, `gunicorn app:app`, or `python app.py` for development."""
from investigations import create_app

app = create_app()

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000, debug=app.config["APP_ENV"] == "development")
