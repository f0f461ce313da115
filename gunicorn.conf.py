"""gunicorn settings for every gunicorn started in this directory (`make serve`, bench/load.py)."""
import os
import sys


def production_settings_missing(env=os.environ) -> list[str]:
    """What `make serve` needs and `env` lacks: it serves real users, so it starts only with an
    explicit SECRET_KEY (the same on every server; not the key generated into instance/) and
    APP_ENV=production (Secure cookies, HSTS)."""
    missing = []
    if not env.get("SECRET_KEY", "").strip():
        missing.append("SECRET_KEY: a long random secret, the same on every app server, e.g.\n"
                       "      export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')")
    if env.get("APP_ENV") != "production":
        missing.append("APP_ENV=production: Secure cookies and Strict-Transport-Security (serve behind HTTPS)")
    return missing


def refuse_unless_production(env=os.environ) -> None:
    missing = production_settings_missing(env)
    if missing:
        print("Refusing to start: `make serve` is for production. Set in the environment:", file=sys.stderr)
        for item in missing:
            print(f"  - {item}", file=sys.stderr)
        print("For development, use `make run`. See README, Deployment.", file=sys.stderr)
        sys.exit(1)


if os.environ.get("APP_ENV") == "production" and not os.environ.get("SECRET_KEY", "").strip():
    # A production server never falls back on a key generated into its own instance/ directory.
    refuse_unless_production()


def post_worker_init(worker):
    """Each worker opens the search index before its first request (see investigations.search.warm_up)."""
    from investigations.search import warm_up

    warm_up(worker.wsgi)
