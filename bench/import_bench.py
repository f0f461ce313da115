"""Import benchmark: `flask import cfpb` of N generated CFPB-layout complaints against a bare load.

Generates N rows in the CFPB's 18-column layout with realistic narratives (100 to 400 words drawn
from the demo's Zipf-like vocabulary, with the demo's opening sentences), ~N/150 companies written
in varying forms ("ACME BANK, INC." / "Acme Bank Inc"), then measures:

  1. the baseline: a bare csv-to-SQLite load of the same file (csv.reader, one executemany, one commit);
  2. `flask import cfpb FILE --as editor` in a subprocess, into a fresh instance (fresh SQLite database,
     search index and evidence directories under a temporary folder, via DATABASE_URL,
     SEARCH_INDEX_DIR and EVIDENCE_DIR, after `flask db upgrade` and `flask users create`);
  3. time to searchable: from the start of the import until a search for the last complaint's unique
     word finds it (the import indexes batch by batch, so this is the import's end plus a query).

It prints rows/s, the ratio to the baseline, the split between the import itself (csv to database,
the indexer working alongside) and the index catching up after the import's last batch (from the
import's "Took …; the search index caught up … s later." line), the CPU seconds of the import and its
indexer (steadier than the clock on a loaded machine), the peak RSS of the largest process
(import or indexer: getrusage of the children), and the search engine used (SEARCH_BACKEND). It exits
with "NOT VALID" when the last complaint is not found, `flask search check` or `flask audit verify` fail.

--csv reuses a file generated before (--keep prints where), to compare two trees on the same file.

    .venv/bin/python bench/import_bench.py [--rows 10000] [--keep] [--backend tantivy] [--no-index] [--csv FILE]
"""
import argparse
import csv
import os
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from investigations.demo import FIRST, OPENINGS, SECOND, SYLLABLES, vocabulary  # noqa: E402
from investigations.imports.cfpb import COLUMNS_18  # noqa: E402

PRODUCTS = [
    ("Credit reporting, credit repair services, or other personal consumer reports", "Credit reporting",
     "Incorrect information on your report", "Information belongs to someone else"),
    ("Debt collection", "I do not know", "Attempts to collect debt not owed", "Debt was paid"),
    ("Mortgage", "Conventional home mortgage", "Trouble during payment process", ""),
    ("Credit card or prepaid card", "General-purpose credit card or charge card",
     "Problem with a purchase shown on your statement", "Credit card company isn't resolving a dispute"),
    ("Checking or savings account", "Checking account", "Managing an account", "Deposits and withdrawals"),
    ("Vehicle loan or lease", "Loan", "Managing the loan or lease", "Billing problems"),
    ("Student loan", "Federal student loan servicing", "Dealing with your lender or servicer",
     "Trouble with how payments are being handled"),
    ("Money transfer, virtual currency, or money service", "Domestic (US) money transfer", "Fraud or scam", ""),
]
RESPONSES = ["Closed with explanation", "Closed with non-monetary relief", "Closed with monetary relief",
             "In progress", "Untimely response"]
STATES = ["CA", "TX", "NY", "FL", "IL", "GA", "OH", "PA", "NC", "MI"]
TAGS = ["", "", "", "Older American", "Servicemember", "Older American, Servicemember"]
FORMS = [lambda n: f"{n.upper()}, INC.", lambda n: f"{n} Inc", lambda n: f"{n} Inc.", lambda n: f"{n}, LLC",
         lambda n: n]


def companies(rng: random.Random, n: int) -> list[str]:
    names = set()
    while len(names) < n:
        first = rng.choice(FIRST) if rng.random() < 0.3 else "".join(rng.choices(SYLLABLES, k=3)).title()
        names.add(f"{first} {rng.choice(SECOND)}")
    return sorted(names)


def write_cfpb_csv(path: Path, n: int, seed: int = 7, first_id: int = 3_000_000) -> int:
    """Write n CFPB rows (18 columns) with 100-400-word narratives; return the file's size in bytes."""
    rng = random.Random(seed)
    words, weights = vocabulary(rng)
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    names = companies(rng, max(n // 150, 20))
    openings = list(OPENINGS.values())
    start = date(2019, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS_18)
        for i in range(n):
            product, sub_product, issue, sub_issue = rng.choice(PRODUCTS)
            length = rng.randint(100, 400)
            body = rng.choices(words, cum_weights=cumulative, k=length)
            sentences = [" ".join(body[k:k + 14]).capitalize() + "." for k in range(0, length, 14)]
            narrative = rng.choice(openings) + " " + " ".join(sentences) + f" Marker zq{first_id + i}."
            company = rng.choice(FORMS)(rng.choice(names))
            received = start + timedelta(days=rng.randrange(0, 5 * 365))
            response = rng.choice(RESPONSES)
            writer.writerow([
                received.isoformat(), product, sub_product, issue, sub_issue, narrative,
                "Company has responded to the consumer and the CFPB and chooses not to provide a public response",
                company, rng.choice(STATES), f"{rng.randrange(10000, 99999)}", rng.choice(TAGS),
                rng.choice(["Consent provided", "Consent not provided", "Consent withdrawn"]), "Web",
                (received + timedelta(days=1)).isoformat(), response, rng.choice(["Yes", "No"]), "N/A",
                str(first_id + i),
            ])
    return path.stat().st_size


def bare_load(csv_path: Path, db_path: Path) -> float:
    """The floor: csv.reader into one SQLite table, one executemany, one commit."""
    started = time.perf_counter()
    connection = sqlite3.connect(db_path)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        connection.execute(f"CREATE TABLE complaints ({', '.join(f'c{i} TEXT' for i in range(len(header)))})")
        connection.executemany(f"INSERT INTO complaints VALUES ({', '.join('?' * len(header))})", reader)
    connection.commit()
    connection.close()
    return time.perf_counter() - started


def flask(env: dict, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", *args], cwd=env.get("BENCH_ROOT", ROOT),
                            env=env, input=stdin, text=True, capture_output=True)
    if check and result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--backend", default=os.environ.get("SEARCH_BACKEND", ""),
                        help="SEARCH_BACKEND for the instance (default: the app's default)")
    parser.add_argument("--no-index", action="store_true", help="import with --no-index")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--csv", help="a file generated before with the same --rows (written by --keep), "
                                      "instead of generating it again")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the source tree whose `flask` runs the import (another checkout, to compare)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    try:
        csv_path = work / "complaints.csv"
        started = time.perf_counter()
        if args.csv:
            os.symlink(Path(args.csv).resolve(), csv_path)
            print(f"Reusing {args.csv} ({args.rows:,} rows, {csv_path.stat().st_size / 1e6:,.1f} MB)")
        else:
            size = write_cfpb_csv(csv_path, args.rows)
            print(f"Generated {args.rows:,} rows, {size / 1e6:,.1f} MB in {time.perf_counter() - started:.1f} s")

        baseline = bare_load(csv_path, work / "bare.db")
        print(f"Baseline (bare csv-to-SQLite load): {baseline:.2f} s, {args.rows / baseline:,.0f} rows/s")

        env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'app.db'}",
               "SEARCH_INDEX_DIR": str(work / "index"), "EVIDENCE_DIR": str(work / "evidence"),
               "AUDIT_KEY_FILE": str(work / "audit_key"), "APP_ENV": "development"}
        env["BENCH_ROOT"] = str(args.root.resolve())
        if args.backend:
            env["SEARCH_BACKEND"] = args.backend
        flask(env, "db", "upgrade")
        flask(env, "users", "create", "bench-editor@example.org", "--name", "Bench Editor", "--role", "editor",
              "--password-stdin", stdin="correct horse battery staple\n")
        engine = flask(env, "shell", stdin="print('ENGINE', app.config['SEARCH_BACKEND'])\n").stdout
        engine = next((line.split("ENGINE", 1)[1].strip() for line in engine.splitlines() if "ENGINE" in line), "?")

        problems: list[str] = []
        command = ["import", "cfpb", str(csv_path), "--as", "bench-editor@example.org"]
        if args.no_index:
            command.append("--no-index")
        started = time.perf_counter()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = flask(env, *command)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb = after.ru_maxrss / 1024
        # CPU seconds of the import and its indexer: on a loaded machine a steadier measure than the clock.
        cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
        print("\n".join(line for line in result.stdout.strip().splitlines() if not line.startswith("Rejected 0")))
        # "Took m:ss (N rows/s); the search index caught up S s later.": the split between the import
        # (csv to database, the indexer working alongside) and the index catching up after its last batch.
        took = re.search(r"^Took (?:(\d+):)?(\d+):(\d+) .*?(?:caught up ([\d.]+) s later)?\.$", result.stdout, re.M)
        caught_up = float(took.group(4)) if took and took.group(4) else None

        searchable = None
        if not args.no_index:
            # The import indexes batch by batch: the last complaint must be found as soon as it returns.
            last = 3_000_000 + args.rows - 1
            probe = flask(env, "shell", stdin=(
                "from sqlalchemy import func, select\n"
                "from investigations.extensions import db\nfrom investigations.models import Case, User\n"
                "from investigations.search import get_backend\nfrom investigations.search.query import SearchRequest\n"
                "editor = db.session.scalar(select(User).where(User.email == 'bench-editor@example.org'))\n"
                f"hits = get_backend().search(SearchRequest(text='zq{last}'), editor)\n"
                "print('FOUND', hits.total, [hit.reference for hit in hits.hits][:1])\n"
                "print('CASES', db.session.scalar(select(func.count()).select_from(Case)))\n"
            )).stdout
            searchable = time.perf_counter() - started
            found = " ".join(line.lstrip(">. ") for line in probe.splitlines() if "FOUND" in line or "CASES" in line)
            print(found)
            if not found.startswith("FOUND 1"):
                problems.append(f"the last complaint is not found by search ({found or probe})")
        check = flask(env, "search", "check", check=False)
        print(f"flask search check: exit {check.returncode}: {check.stdout.strip().splitlines()[-1:] or ''}")
        if check.returncode and not args.no_index:
            problems.append(f"flask search check failed: {check.stdout.strip()} {check.stderr.strip()[-500:]}")
        verify = flask(env, "audit", "verify", check=False)
        print(f"flask audit verify: exit {verify.returncode}: {verify.stdout.strip().splitlines()[-1:] or ''}")
        if verify.returncode:
            problems.append("flask audit verify failed")

        rate = args.rows / elapsed
        imported = elapsed - caught_up if caught_up is not None else None
        print()
        print("| rows | engine | baseline | import, index updated | rows/s | ratio | of which import | "
              "index catching up | CPU (import + indexer) | peak RSS | searchable after |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {args.rows:,} | {engine}{' (--no-index)' if args.no_index else ''} | {baseline:.2f} s | "
              f"{elapsed:.1f} s | {rate:,.0f} | {elapsed / baseline:.1f}x | "
              f"{f'{imported:.1f} s ({args.rows / imported:,.0f} rows/s)' if imported else '-'} | "
              f"{f'{caught_up:.1f} s' if caught_up is not None else '-'} | {cpu:.1f} s | {peak_mb:,.0f} MB | "
              f"{f'{searchable:.1f} s' if searchable is not None else '-'} |")
        if problems:
            raise SystemExit("NOT VALID: " + "; ".join(problems))
    finally:
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
