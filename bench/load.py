"""Load and fault benchmark: a mixed workload from concurrent clients against gunicorn.

Builds a throw-away instance with `flask demo seed`'s generator (10,000 cases by default),
starts gunicorn on 127.0.0.1 with several workers, and runs CLIENTS concurrent users for a
fixed time. Each signs in through the login form, then lists cases, opens them, searches,
files new cases and uploads evidence, as the browser would (real forms, CSRF tokens, and the
case page's "Similar cases" panel fetched after the page, as its script does). With --think, each
user pauses between actions (0.5 to 1.5 times that many seconds, as a person reading the page);
without it the clients send requests back to back, which measures capacity rather than what a
user waits for. All users sign in at once first (measured as its own action); the timed workload
starts when the last has. It prints requests per second, p50/p95 latency per action and the error count, then checks
consistency: every case in the database is in the search index and current, every evidence
row has its file with the right hash.

With --fault it then runs the workload again and kills a gunicorn worker with SIGKILL in the
middle of uploads, restarts gunicorn, and checks the same consistency.

    .venv/bin/python bench/load.py [--cases 10000] [--clients 20] [--duration 60] [--workers 4] [--think 0] [--fault]
        [--search-only] [--before DIR]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/loadbench --search-backend postgres]

--search-only: every client only searches (capacity of the search page: searches per second).
--before DIR: first serve another checkout of the app (`git archive HEAD | tar -x -C DIR`) on the same
database, its index rebuilt by its own code, then this one: before and after in the same run. The
web workers' memory (RSS, and its private part) is sampled at the end of each run.
"""
import argparse
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from investigations.search.sync import STALE_SECONDS  # noqa: E402

PASSWORD = "load bench password 42"
SEARCH_WORDS = ["refund", "warranty", "repair", "contract", "delivery", "deposit", "invoice", "landlord",
                "flight", "internet", "membership", "scam", "collector", "insurance", "leaking", "mold"]
WEIGHTS = {"list": 20, "open": 30, "search": 30, "file": 10, "upload": 10}
FAULT_WEIGHTS = {"list": 10, "open": 15, "search": 15, "file": 20, "upload": 40}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] * 1000 if ordered else 0.0


def server_environment(work: Path, args) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": args.database_url or f"sqlite:///{work / 'load.db'}",
        "SEARCH_INDEX_DIR": str(work / "index"), "EVIDENCE_DIR": str(work / "evidence"),
        "DOSSIER_DIR": str(work / "dossiers"), "SECRET_KEY": "load-bench", "SEARCH_BACKEND": args.search_backend,
        # 20 clients from one address would trip the per-address sign-in limit meant for attackers.
        "RATELIMIT_ENABLED": "false",
    })
    return env


def prepare(env: dict, args) -> dict[str, list[str]]:
    """Migrate, create the load users, seed the archive, build the index. Returns each user's case references."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from investigations import create_app
    from investigations.auth.accounts import create_user
    from investigations.demo import seed
    from investigations.extensions import db
    from investigations.models import Case
    from investigations.search import maintenance

    app = create_app()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        users = []
        for number in range(args.clients):
            role = "editor" if number % 5 == 0 else "reporter"
            user, _ = create_user(f"load{number}@example.org", f"Load {role} {number}", role, password=PASSWORD)
            users.append(user)
        db.session.commit()
        print(f"Seeding {args.cases} cases…", file=sys.stderr)
        app.config["SEARCH_SYNC"] = False
        seed(args.cases, random.Random(3))
        db.session.commit()
        print("Indexing…", file=sys.stderr)
        maintenance.reindex()
        everything = list(db.session.scalars(select(Case.reference)))
        visible = {}
        for user in users:
            if user.is_editor:
                visible[user.email] = everything
            else:
                visible[user.email] = list(db.session.scalars(select(Case.reference).where(
                    (Case.created_by_id == user.id) | (Case.assigned_to_id == user.id))))
        db.engine.dispose()
    return visible


class Server:
    def __init__(self, env: dict, workers: int, root: Path = ROOT):
        self.env, self.workers, self.port, self.root = env, workers, free_port(), root
        self.process: subprocess.Popen | None = None
        self.indexer: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # As make serve does (Procfile): the workers and the one process that writes the search index.
        self.indexer = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "--app", "app", "search", "indexer"],
                                        cwd=self.root, env=self.env, stderr=subprocess.DEVNULL)
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "120", "--log-level", "warning", "app:app"],
            cwd=self.root, env=self.env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=10).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or workers still starting
                pass
            time.sleep(0.2)
        self.process.kill()
        raise SystemExit("gunicorn did not start within 2 minutes")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def memory(self) -> str:
        """The web workers' memory now: RSS (private part in brackets; the rest is mostly the index's
        shared memory-mapped files)."""
        figures = []
        for pid in self.worker_pids():
            with open(f"/proc/{pid}/status") as status:
                fields = dict(line.split(":", 1) for line in status)
            figures.append((int(fields["VmRSS"].split()[0]) // 1024, int(fields["RssAnon"].split()[0]) // 1024))
        return ", ".join(f"{rss} MB ({private} MB private)" for rss, private in figures)

    def stop(self) -> None:
        for process in (self.process, self.indexer):
            process.send_signal(signal.SIGTERM)
        for process in (self.process, self.indexer):
            process.wait(timeout=60)


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (random.randrange(256), 90, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


class Client(threading.Thread):
    def __init__(self, base: str, email: str, references: list[str], deadline: float, weights: dict, results,
                 think: float = 0.0, start: "Start | None" = None):
        super().__init__(daemon=True)
        self.base, self.email, self.references = base, email, list(references)
        self.deadline, self.weights, self.results, self.think = deadline, weights, results, think
        self.start_line = start
        self.http = requests.Session()
        self.rng = random.Random(email)

    def timed(self, action: str, call, ok=lambda r: r.status_code < 400):
        started = time.perf_counter()
        try:
            response = call()
            good = ok(response)
        except requests.RequestException:
            response, good = None, False
        self.results.append((action, time.perf_counter() - started, good, response.status_code if response else 0))
        return response if good else None

    def token(self, path: str) -> str | None:
        response = self.http.get(self.base + path, timeout=60)
        match = CSRF.search(response.text)
        return match.group(1) if match else None

    def sign_in(self) -> None:
        token = self.token("/login")
        self.timed("sign in", lambda: self.http.post(self.base + "/login", timeout=60, allow_redirects=False, data={
            "csrf_token": token, "email": self.email, "password": PASSWORD}), ok=lambda r: r.status_code == 302)

    def run(self) -> None:
        self.sign_in()
        if self.start_line:
            self.deadline = self.start_line.wait()
        actions, weights = list(self.weights), list(self.weights.values())
        while time.monotonic() < self.deadline:
            getattr(self, "do_" + self.rng.choices(actions, weights)[0])()
            if self.think:
                time.sleep(min(self.think * self.rng.uniform(0.5, 1.5), max(0.0, self.deadline - time.monotonic())))

    def do_list(self):
        self.timed("list", lambda: self.http.get(self.base + "/cases/", timeout=60))

    def do_open(self):
        if self.references:
            reference = self.rng.choice(self.references)
            if self.timed("open case", lambda: self.http.get(f"{self.base}/cases/{reference}", timeout=60)):
                self.timed("similar cases", lambda: self.http.get(f"{self.base}/cases/{reference}/similar", timeout=60,
                                                                  headers={"X-Fragment": "1"}))

    def do_search(self):
        words = " ".join(self.rng.sample(SEARCH_WORDS, self.rng.choice([1, 1, 2])))
        self.timed("search", lambda: self.http.get(self.base + "/search", params={"q": words}, timeout=60))

    def do_file(self):
        token = self.token("/cases/new")
        data = {"csrf_token": token, "title": f"Load test complaint {self.rng.randrange(10**6)}",
                "business_name": self.rng.choice(["Acme Load Appliances", "Globex Load Motors", "Initech Load Bank"]),
                "category": "refund", "narrative": "The store refused a refund for a faulty appliance.",
                "currency": "USD", "date_received": time.strftime("%Y-%m-%d"), "received_via": "web",
                "complainant_name": "Load Complainant"}
        response = self.timed("file case", lambda: self.http.post(self.base + "/cases/new", data=data, timeout=60,
                                                                   allow_redirects=False),
                              ok=lambda r: r.status_code == 302)
        if response is not None:
            self.references.append(response.headers["Location"].rsplit("/", 1)[-1])

    def do_upload(self):
        if not self.references:
            return
        reference = self.rng.choice(self.references[-20:])  # recent ones: open cases the user may change
        token = self.token(f"/cases/{reference}")
        if token is None:
            return
        files = {"files": ("photo.jpg", jpeg(), "image/jpeg")}
        self.timed("upload", lambda: self.http.post(
            f"{self.base}/cases/{reference}/evidence", data={"csrf_token": token}, files=files, timeout=120,
            allow_redirects=False, headers={"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}),
            ok=lambda r: r.status_code in (200, 201, 302, 403))  # 403: the case was published meanwhile


class Start:
    """Every client signs in first (all at once: sign-ins are measured, as a storm); the timed
    workload starts when the last one has, so that it measures the app at work, not at sign-in."""

    def __init__(self, clients: int, duration: float):
        self.duration, self.deadline, self.began = duration, 0.0, threading.Event()
        self.barrier = threading.Barrier(clients, action=self._go)

    def _go(self) -> None:
        self.deadline = time.monotonic() + self.duration
        self.began.set()

    def wait(self) -> float:
        self.barrier.wait()
        return self.deadline


def run_load(server: Server, visible: dict, args, weights: dict, kill_at: float | None = None) -> list:
    results: list = []
    start = Start(len(visible), args.duration)
    clients = [Client(server.url, email, refs, 0.0, weights, results, args.think, start)
               for email, refs in visible.items()]
    for client in clients:
        client.start()
    start.began.wait()
    started = time.perf_counter()
    if kill_at is not None:
        time.sleep(args.duration * kill_at)
        victim = random.choice(server.worker_pids())
        os.kill(victim, signal.SIGKILL)
        print(f"Killed gunicorn worker {victim} with SIGKILL mid-run", file=sys.stderr)
    for client in clients:
        client.join()
    elapsed = time.perf_counter() - started
    report(results, elapsed)
    print(f"Web workers' memory at the end: {server.memory()}")
    return results


def report(results: list, elapsed: float) -> None:
    by_action = defaultdict(list)
    errors = defaultdict(int)
    for action, seconds, good, status in results:
        by_action[action].append(seconds)
        if not good:
            errors[(action, status)] += 1
    timed = sum(1 for action, *_ in results if action != "sign in")
    print(f"{timed} requests in {elapsed:.1f} s after the sign-ins: {timed / elapsed:.1f} requests/s; "
          f"{sum(errors.values())} errors")
    print(f"{'action':12} {'count':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for action, times in sorted(by_action.items()):
        print(f"{action:12} {len(times):>7} {percentile(times, 50):>8.1f} {percentile(times, 95):>8.1f}")
    for (action, status), count in sorted(errors.items()):
        print(f"  errors: {count} × {action} (HTTP {status or 'connection failed'})")


def check_consistency(env: dict) -> bool:
    """Every case indexed and current; every evidence row with its file and the right hash."""
    os.environ.update(env)
    from sqlalchemy import func, select

    from investigations import create_app
    from investigations.evidence.integrity import verify_all
    from investigations.extensions import db
    from investigations.models import Case, Evidence, SearchQueueEntry
    from investigations.search import maintenance

    app = create_app()
    with app.app_context():
        waiting = db.session.scalar(select(func.count()).select_from(SearchQueueEntry))
        search = maintenance.check()
        checked, problems = verify_all()
        cases = db.session.scalar(select(func.count()).select_from(Case))
        evidence = db.session.scalar(select(func.count()).select_from(Evidence))
        db.engine.dispose()
    print(f"Consistency: {cases} cases, {evidence} evidence files ({checked} checked); "
          f"search index: {len(search.missing)} missing, {len(search.stale)} stale, {len(search.orphaned)} orphaned "
          f"({waiting} updates still queued); evidence: {len(problems)} missing or altered")
    return search.ok and not problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds each user pauses between actions, on average (default: none)")
    parser.add_argument("--fault", action="store_true", help="then a run with a worker killed mid-upload")
    parser.add_argument("--database-url", help="default: a throw-away SQLite file (a PostgreSQL database here is emptied)")
    parser.add_argument("--search-backend", default="tantivy", choices=["tantivy", "whoosh", "postgres"])
    parser.add_argument("--search-only", action="store_true", help="every client only searches")
    parser.add_argument("--before", metavar="DIR", help="first measure the app checked out in DIR, same database")
    args = parser.parse_args()
    weights = {"search": 1} if args.search_only else WEIGHTS

    work = Path(tempfile.mkdtemp(prefix="load-bench-"))
    env = server_environment(work, args)
    visible = prepare(env, args)
    if args.before:
        before = Path(args.before).resolve()
        subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", "search", "reindex"], cwd=before, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        server = Server(env, args.workers, root=before)
        server.start()
        print(f"\n== Before ({before}): {args.clients} clients, {args.duration:.0f} s, gunicorn {args.workers} "
              f"workers, {args.cases} cases, {os.cpu_count()} cores, think time {args.think:g} s"
              f"{', searches only' if args.search_only else ''}")
        try:
            run_load(server, visible, args, weights)
        finally:
            server.stop()
        subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", "search", "reindex"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    server = Server(env, args.workers)
    server.start()
    print(f"\n== Load: {args.clients} clients, {args.duration:.0f} s, gunicorn {args.workers} workers, "
          f"{args.cases} cases, {os.cpu_count()} cores, think time {args.think:g} s"
          f"{', searches only' if args.search_only else ''}")
    try:
        run_load(server, visible, args, weights)
    finally:
        server.stop()
    consistent = check_consistency(env)

    if args.fault:
        server.start()
        print("\n== Fault: the same clients, mostly filing and uploading; one worker SIGKILLed half-way")
        try:
            run_load(server, visible, args, FAULT_WEIGHTS, kill_at=0.5)
        finally:
            server.stop()
        # A restart, as after a crash (stale temporary files are cleaned up), then life goes on: one
        # more case filed once the queue's retry age has passed lets the app repair what the killed
        # worker left half-done (an index update it never wrote).
        server.start()
        time.sleep(STALE_SECONDS + 1)
        email, references = next(iter(visible.items()))
        results: list = []
        client = Client(server.url, email, references, time.monotonic(), WEIGHTS, results)
        client.sign_in()
        client.do_file()
        server.stop()
        consistent = check_consistency(env) and consistent
    print("\nConsistent." if consistent else "\nINCONSISTENT: see above.")
    sys.exit(0 if consistent else 1)


if __name__ == "__main__":
    main()
