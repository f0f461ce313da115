"""Background-jobs benchmark: uploads that leave OCR to the jobs consumer, and the consumer's memory.

Builds a throw-away instance (SQLite database, evidence, search index, Huey's SQLite queue and the
mail folder in a temporary directory), then:

(a) starts what `make serve` starts, minus the TLS proxy: gunicorn (--workers), the search indexer
    and the jobs consumer (`flask jobs consumer`). One signed-in client uploads, alternately, a
    plain 10-page PDF (a text layer) and a 10-page scanned PDF (page images only, 150 dpi, no text
    layer), each with different words, through the case page's upload form (CSRF token included),
    and times each response. Then, for --searchable uploads of a scanned PDF made on an idle
    queue, it times from the upload's response until /search finds the word printed on its last
    page (OCR by the consumer, indexing by the indexer).
(b) queues --ocr-jobs OCR jobs (photos of a few lines of text, 900×220 pixels, each different)
    straight into the queue, starts a fresh consumer and samples its resident memory (VmRSS of the
    consumer process itself; each file is read in a short-lived child process, as in production)
    every --sample-every finished jobs. Prints the curve and writes it as an SVG chart (--svg).

    .venv/bin/python bench/jobs_bench.py [--uploads 20] [--searchable 3] [--ocr-jobs 1000]
        [--sample-every 50] [--workers 2] [--consumer-workers 2] [--svg /tmp/jobs_rss.svg] [--skip-upload]
"""
import argparse
import io
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "jobs bench password 42"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# Words Tesseract reads reliably in a plain font; each document gets its own pair.
WORDS = ["ALBATROSS", "BRIGANTINE", "CORMORANT", "DIRIGIBLE", "ESPLANADE", "FLAMINGO", "GONDOLIER", "HARPSICHORD",
         "ICEBREAKER", "JUNIPER", "KINGFISHER", "LIGHTHOUSE", "MARZIPAN", "NIGHTINGALE", "OBSERVATORY", "PELICAN",
         "QUARTERMASTER", "RHUBARB", "SANDPIPER", "TRAMPOLINE", "UMBRELLA", "VOLCANO", "WATERFALL", "XYLOPHONE",
         "YACHTSMAN", "ZEPPELIN"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] * 1000 if ordered else 0.0


def unique_word(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}{rng.choice(WORDS)}"


# --- Files -------------------------------------------------------------------------------------


def text_pdf(pages: list[str]) -> bytes:
    """A PDF with a real text layer, one line of text per page."""
    count = len(pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(f"{3 + 2 * i} 0 R".encode() for i in range(count))
               + b"] /Count " + str(count).encode() + b" >>"]
    font = 3 + 2 * count
    for i, line in enumerate(pages):
        stream = f"BT /F1 14 Tf 72 720 Td ({line}) Tj ET".encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def page_image(lines: list[str], size=(1240, 1754)):
    """A scanned page: black text on an off-white page, slightly noisy, 150 dpi A4."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 245)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=34)
    for i, line in enumerate(lines):
        draw.text((110, 140 + i * 60), line, fill=20, font=font)
    return image


def scanned_pdf(word: str, pages: int = 10) -> bytes:
    """A 10-page scan (page images, no text layer); `word` is on the last page."""
    images = []
    for number in range(1, pages + 1):
        lines = [f"Statement page {number} of {pages}", "Customer account summary",
                 "Payment received with thanks", "Balance carried forward"]
        if number == pages:
            lines.append(f"Reference {word}")
        images.append(page_image(lines))
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150, quality=80)
    return out.getvalue()


def small_photo(number: int, rng: random.Random) -> bytes:
    """A small photographed note, different each time: three lines of text, 900×220 pixels."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (900, 220), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    for i, line in enumerate([f"RECEIPT {number:05d}", unique_word(rng), f"TOTAL {rng.randrange(10, 999)}.99"]):
        draw.text((30, 20 + i * 64), line, fill=(15, 15, 15), font=font)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# --- The instance --------------------------------------------------------------------------------


def environment(work: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{work / 'bench.db'}", "SEARCH_INDEX_DIR": str(work / "index"),
        "EVIDENCE_DIR": str(work / "evidence"), "DOSSIER_DIR": str(work / "dossiers"),
        "JOBS_SQLITE_PATH": str(work / "jobs-queue.sqlite3"), "MAIL_FOLDER": str(work / "mail"),
        "AUDIT_KEY_FILE": str(work / "audit_key"), "SECRET_KEY": "jobs-bench", "RATELIMIT_ENABLED": "false",
        "JOBS_IMMEDIATE": "false", "EVIDENCE_EXTRACTION": "background", "PYTHONPATH": str(ROOT),
    })
    return env


def prepare(env: dict) -> str:
    """Migrate, create the reporter and one case. Returns the case's reference."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from investigations import create_app
    from investigations.auth.accounts import create_user
    from investigations.cases.services import CaseDetails, create_case
    from investigations.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        user, _ = create_user("bench@example.org", "Bench Reporter", "reporter", password=PASSWORD)
        db.session.commit()
        case, _ = create_case(CaseDetails.from_fields({"title": "Statements that do not add up", "business_name": "Bench Bank",
                               "category": "billing", "narrative": "Monthly statements show charges nobody agreed to.",
                               "received_via": "email", "tags": "bench", "complainant_name": "Bench Complainant"}), user)
        db.session.commit()
        reference = case.reference
        db.engine.dispose()
    return reference


def start(env: dict, *args: str, log: Path) -> subprocess.Popen:
    with open(log, "ab") as handle:
        return subprocess.Popen(list(args), cwd=ROOT, env=env, stdout=handle, stderr=handle, start_new_session=True)


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def flask(*args: str) -> list[str]:
    return [str(ROOT / ".venv/bin/flask"), "--app", "app", *args]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- (a) Uploads ---------------------------------------------------------------------------------


def sign_in(base: str) -> requests.Session:
    http = requests.Session()
    token = CSRF.search(http.get(base + "/login", timeout=30).text).group(1)
    response = http.post(base + "/login", data={"csrf_token": token, "email": "bench@example.org",
                                                "password": PASSWORD}, allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.status_code
    return http


def upload(http: requests.Session, base: str, reference: str, name: str, data: bytes) -> float:
    token = CSRF.search(http.get(f"{base}/cases/{reference}", timeout=30).text).group(1)
    started = time.perf_counter()
    response = http.post(f"{base}/cases/{reference}/evidence", data={"csrf_token": token},
                         files={"files": (name, data, "application/pdf")}, allow_redirects=False, timeout=120)
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, (response.status_code, response.text[:300])
    return elapsed


def searchable(http: requests.Session, base: str, reference: str, word: str) -> bool:
    response = http.get(f"{base}/search", params={"q": word.lower()}, timeout=30)
    return response.status_code == 200 and f"/cases/{reference}" in response.text


def wait_idle(database: Path, seconds: float = 900) -> None:
    """Until no job is queued, running or retrying."""
    import sqlite3

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as connection:
            left = connection.execute("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running', 'retrying')"
                                      ).fetchone()[0]
        if not left:
            return
        time.sleep(0.5)
    raise SystemExit("The queue did not drain in time.")


def bench_uploads(env: dict, work: Path, reference: str, args) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = [
        start(env, str(ROOT / ".venv/bin/gunicorn"), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
              "--timeout", "120", "--log-level", "warning", "app:app", log=work / "gunicorn.log"),
        start(env, *flask("search", "indexer"), log=work / "indexer.log"),
        start(env, *flask("jobs", "consumer", "--workers", str(args.consumer_workers)), log=work / "consumer.log"),
    ]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        http = sign_in(base)
        rng = random.Random(7)
        upload(http, base, reference, "warm-up.pdf", text_pdf(["warm up"] * 10))
        times = {"plain": [], "scanned": []}
        for number in range(args.uploads):
            word = unique_word(rng)
            plain = text_pdf([f"Statement page {page} {word}" for page in range(1, 11)])
            times["plain"].append(upload(http, base, reference, f"plain-{number}.pdf", plain))
            times["scanned"].append(upload(http, base, reference, f"scan-{number}.pdf", scanned_pdf(unique_word(rng))))
        print(f"Uploaded {args.uploads} plain and {args.uploads} scanned PDFs; waiting for their OCR…", file=sys.stderr)
        started = time.monotonic()
        wait_idle(work / "bench.db")
        drained = time.monotonic() - started
        to_search = []
        for number in range(args.searchable):
            word = unique_word(rng)
            data = scanned_pdf(word)
            upload(http, base, reference, f"search-{number}.pdf", data)
            after = time.monotonic()
            while not searchable(http, base, reference, word):
                if time.monotonic() - after > 300:
                    raise SystemExit(f"{word} was not searchable after 300 s")
                time.sleep(0.25)
            to_search.append(time.monotonic() - after)
            print(f"  scanned PDF {number + 1}: searchable after {to_search[-1]:.1f} s", file=sys.stderr)
        return {"times": times, "drained": drained, "searchable": to_search}
    finally:
        for process in processes:
            stop(process)


# --- (b) Consumer memory ---------------------------------------------------------------------------


def queue_ocr_jobs(env: dict, reference: str, count: int) -> None:
    """Store `count` small photos on the case and queue their OCR jobs (no consumer is running)."""
    os.environ.update(env)
    from sqlalchemy import select

    from investigations import create_app
    from investigations.evidence.services import Upload, add_evidence, finish_upload, schedule_extraction
    from investigations.extensions import db
    from investigations.models import Case, User

    app = create_app()
    rng = random.Random(11)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "bench@example.org"))
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        for first in range(0, count, 50):
            uploads = [Upload(io.BytesIO(small_photo(number, rng)), f"note-{number}.jpg", "", "")
                       for number in range(first, min(first + 50, count))]
            result = add_evidence(case, uploads, user)
            db.session.commit()
            finish_upload(result)
            schedule_extraction([evidence.id for evidence in result.added])
        db.engine.dispose()


def bench_memory(env: dict, work: Path, reference: str, args) -> list[tuple[int, int, float]]:
    import sqlite3

    queue_ocr_jobs(env, reference, args.ocr_jobs)
    database = work / "bench.db"

    def done() -> int:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT count(*) FROM jobs WHERE kind = 'evidence.extract' AND state IN "
                                      "('done', 'failed') AND key LIKE 'evidence:%' AND id > ?", (first_id,)
                                      ).fetchone()[0]

    with sqlite3.connect(database) as connection:
        first_id = connection.execute("SELECT min(id) - 1 FROM jobs WHERE state = 'queued'").fetchone()[0]
    log = work / "consumer-memory.log"
    consumer = start(env, *flask("jobs", "consumer", "--workers", str(args.consumer_workers)), log=log)
    while "consumer running" not in (log.read_text() if log.exists() else ""):  # booted: the first sample
        if consumer.poll() is not None:
            raise SystemExit(f"The consumer stopped; see {log}")
        time.sleep(0.1)
    started = time.monotonic()
    curve = []
    next_sample = 0
    try:
        while True:
            finished = done()
            if finished >= next_sample:
                curve.append((finished, rss_kb(consumer.pid), time.monotonic() - started))
                print(f"  {finished:5d} jobs done: consumer RSS {curve[-1][1] / 1024:.1f} MB "
                      f"({curve[-1][2]:.0f} s)", file=sys.stderr)
                next_sample = (finished // args.sample_every + 1) * args.sample_every
            if finished >= args.ocr_jobs:
                break
            if consumer.poll() is not None:
                raise SystemExit(f"The consumer stopped; see {log}")
            time.sleep(0.2)
    finally:
        stop(consumer, signal.SIGINT)
    with sqlite3.connect(database) as connection:
        states = dict(connection.execute("SELECT extraction_state, count(*) FROM evidence GROUP BY extraction_state"
                                         ).fetchall())
    print(f"  evidence extraction states: {states}", file=sys.stderr)
    return curve


def svg_chart(curve: list[tuple[int, int, float]], path: Path) -> None:
    width, height, left, bottom, top, right = 640, 320, 60, 40, 20, 20
    max_jobs = max(point[0] for point in curve) or 1
    max_mb = max(point[1] for point in curve) / 1024 * 1.25
    def x(jobs):
        return left + (width - left - right) * jobs / max_jobs

    def y(mb):
        return height - bottom - (height - top - bottom) * mb / max_mb

    points = " ".join(f"{x(jobs):.1f},{y(kb / 1024):.1f}" for jobs, kb, _ in curve)
    ticks = "".join(f'<line x1="{left}" x2="{width - right}" y1="{y(mb):.1f}" y2="{y(mb):.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{y(mb) + 4:.1f}" text-anchor="end">{mb:.0f}</text>'
                    for mb in range(0, int(max_mb) + 1, max(1, int(max_mb) // 5)))
    xticks = "".join(f'<text x="{x(jobs):.1f}" y="{height - bottom + 16}" text-anchor="middle">{jobs}</text>'
                     for jobs in range(0, max_jobs + 1, max(1, max_jobs // 5)))
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="11">{ticks}{xticks}'
        f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{points}"/>'
        f'<text x="{width / 2}" y="{height - 6}" text-anchor="middle">OCR jobs done</text>'
        f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">'
        f'consumer RSS (MB)</text></svg>\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=20, help="plain and scanned PDFs each (default 20)")
    parser.add_argument("--searchable", type=int, default=3, help="scanned PDFs timed until searchable")
    parser.add_argument("--ocr-jobs", type=int, default=1000)
    parser.add_argument("--sample-every", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--consumer-workers", type=int, default=2, help="jobs consumer threads")
    parser.add_argument("--svg", type=Path, default=Path("/tmp/jobs_rss.svg"))
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jobs-bench-") as folder:
        work = Path(folder)
        env = environment(work)
        reference = prepare(env)
        if not args.skip_upload:
            result = bench_uploads(env, work, reference, args)
            print("\n(a) Upload response time, 10-page PDFs, consumer running "
                  f"({args.workers} gunicorn workers, {args.consumer_workers} consumer threads):")
            print("| PDF | uploads | p50 | p95 | max |\n|---|---|---|---|---|")
            for kind, values in result["times"].items():
                print(f"| {kind} | {len(values)} | {percentile(values, 50):.0f} ms | {percentile(values, 95):.0f} ms "
                      f"| {max(values) * 1000:.0f} ms |")
            print(f"\nOCR of the {args.uploads} scanned PDFs (and reading the plain ones) finished "
                  f"{result['drained']:.0f} s after the last upload.")
            found = result["searchable"]
            if found:
                print(f"Scanned PDF on an idle queue, upload → its last page's word found by /search: "
                      f"median {statistics.median(found):.1f} s, max {max(found):.1f} s ({len(found)} uploads).")
        if not args.skip_memory:
            curve = bench_memory(env, work, reference, args)
            print(f"\n(b) Consumer RSS over {args.ocr_jobs} OCR jobs ({args.consumer_workers} threads):")
            print("| jobs done | RSS | elapsed |\n|---|---|---|")
            for jobs, kb, seconds in curve:
                print(f"| {jobs} | {kb / 1024:.1f} MB | {seconds:.0f} s |")
            svg_chart(curve, args.svg)
            print(f"\nChart: {args.svg}")


if __name__ == "__main__":
    main()
