"""gunicorn settings for every gunicorn started in this directory (`make serve`, bench/load.py)."""


def post_worker_init(worker):
    """Each worker opens the search index before its first request (see investigations.search.warm_up)."""
    from investigations.search import warm_up

    warm_up(worker.wsgi)
