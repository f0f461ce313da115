"""Imports at scale: batches committed one by one (Core bulk inserts), sequential references,
businesses resolved once, an audit event per batch, the index fed batch by batch; an import killed
mid-way keeps whole batches and a second run finishes it; a bad header writes nothing."""
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from investigations import audit
from investigations.extensions import db
from investigations.imports import importer
from investigations.imports.cfpb import COLUMNS_18
from investigations.models import AuditEvent, Business, Case, CaseTag, SearchQueueEntry, TimelineEntry
from investigations.search import get_backend
from investigations.search.models import SearchRequest
from tests.conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent
YEAR = date.today().year
PRODUCTS = ["Debt collection", "Mortgage", "Credit card or prepaid card", "Vehicle loan or lease", "Student loan"]
COMPANY_FORMS = ["{} BANK, INC.", "{} Bank Inc", "{} Bank Inc.", "{} Bank"]  # one business per stem


def cfpb_csv(n: int, first_id: int = 6_000_000, companies: int = 30) -> str:
    """n CFPB rows (18 columns): complaint first_id + i, against `companies` businesses written in
    several forms, each with a narrative holding the unique word zq<complaint id>."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS_18)
    for i in range(n):
        complaint = first_id + i
        stem = f"Lender{i % companies:03d}"
        writer.writerow([
            f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}", PRODUCTS[i % 5], "", f"Issue number {i % 17}", "",
            f"The company charged me twice and ignored my letters, complaint zq{complaint}.\nSecond line.", "",
            COMPANY_FORMS[i % len(COMPANY_FORMS)].format(stem), "NY", "10001",
            "Older American" if i % 3 == 0 else "", "Consent provided", "Web", "2023-12-01",
            "Closed with explanation", "Yes", "N/A", str(complaint),
        ])
    return out.getvalue()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str) -> list[dict]:
    return [json.loads(d) for d in db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


def test_a_few_thousand_rows_are_filed_in_batches(runner, users, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 500)
    path = tmp_path / "complaints.csv"
    path.write_text(cfpb_csv(2600) + cfpb_csv(100), encoding="utf-8")  # the last 100 repeat the first 100
    result = runner.invoke(args=["import", "cfpb", str(path), "--as", "eve@example.org"])
    assert result.exit_code == 0, result.output
    assert f"Imported 2,600 complaints from complaints.csv as new cases (C-{YEAR}-00001 … C-{YEAR}-02600); " \
           f"30 new businesses." in result.output
    assert "Skipped 100 already imported." in result.output

    references = list(db.session.scalars(select(Case.reference).order_by(Case.id)))
    assert references == [f"C-{YEAR}-{n:05d}" for n in range(1, 2601)]  # unique and sequential, in file order
    assert count(Business) == 30  # "LENDER001 BANK, INC." and "Lender001 Bank" are one business
    assert count(Case, Case.source_ref.is_not(None)) == 2600
    assert count(TimelineEntry, TimelineEntry.kind == "created") == 2600
    assert count(CaseTag, CaseTag.name == "cfpb") == 2600 and count(CaseTag, CaseTag.name == "older american") == 867
    case = db.session.scalar(select(Case).where(Case.source_ref == "cfpb:6000003"))
    assert case.business.name == "Lender003 Bank" and case.created_by == users["eve"]  # the first spelling seen
    other = db.session.scalar(select(Case).where(Case.source_ref == "cfpb:6000033"))  # "Lender003 Bank Inc."
    assert other.business_id == case.business_id
    assert case.tag_names == ["cfpb", "older american", "vehicle-loan-or-lease"]
    assert case.category == "auto" and case.timeline[0].body.startswith("Imported from the CFPB")

    batches = events("import.cfpb.batch")
    assert [(b["first"], b["last"], b["count"]) for b in batches] == [
        (f"C-{YEAR}-{start + 1:05d}", f"C-{YEAR}-{min(start + 500, 2600):05d}", min(500, 2600 - start))
        for start in range(0, 2600, 500)]
    [summary] = events("import.cfpb")
    assert (summary["imported"], summary["skipped"], summary["batches"]) == (2600, 100, 6)
    assert audit.verify_chain().ok
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    assert count(SearchQueueEntry) == 0
    found = get_backend().search(SearchRequest(text="zq6002599"), users["eve"])
    assert [hit.reference for hit in found.hits] == [f"C-{YEAR}-02600"]
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 0 and "OK: every case is in the index" in check.output


def test_a_bad_header_writes_nothing(runner, users, tmp_path):
    path = tmp_path / "complaints.csv"
    path.write_text(cfpb_csv(50).replace("Complaint ID", "Complaint", 1), encoding="utf-8")
    result = runner.invoke(args=["import", "cfpb", str(path), "--as", "eve@example.org"])
    assert result.exit_code == 1
    assert "it has no column “Complaint ID”" in result.output and "Nothing was imported." in result.output
    assert count(Case) == count(Business) == count(AuditEvent) == count(SearchQueueEntry) == 0


def test_a_fault_after_whole_batches_keeps_them_and_a_second_run_adds_the_rest(runner, users, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 500)
    good = cfpb_csv(1200)
    path = tmp_path / "complaints.csv"
    path.write_bytes(good.encode() + b"2023-01-01,\x00broken\n")
    result = runner.invoke(args=["import", "cfpb", str(path), "--as", "eve@example.org"])
    assert result.exit_code == 1
    assert "contains a NUL byte on line 2,402" in result.output  # two lines a row
    assert f"The 1,000 complaints imported before it (C-{YEAR}-00001 … C-{YEAR}-01000, rows up to line 2,000 of " \
           "the file) were kept: import the file again to add the rest" in result.output
    assert count(Case) == 1000 and len(events("import.cfpb.batch")) == 2
    [summary] = events("import.cfpb")
    assert summary["imported"] == 1000 and "NUL byte" in summary["stopped"]

    path.write_text(good, encoding="utf-8")
    again = runner.invoke(args=["import", "cfpb", str(path), "--as", "eve@example.org"])
    assert again.exit_code == 0, again.output
    assert "Imported 200 complaints" in again.output and "Skipped 1,000 already imported." in again.output
    assert list(db.session.scalars(select(Case.reference).order_by(Case.id))) == [
        f"C-{YEAR}-{n:05d}" for n in range(1, 1201)]
    assert audit.verify_chain().ok and count(SearchQueueEntry) == 0


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="runs the CLI on a SQLite file database of its own")
def test_an_import_killed_mid_way_keeps_whole_batches_and_a_second_run_finishes_it(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "SEARCH_INDEX_DIR": str(tmp_path / "index"), "EVIDENCE_DIR": str(tmp_path / "evidence"),
           "AUDIT_KEY": "test-audit-key-0123456789abcdef0123456789", "SECRET_KEY": "test", "APP_ENV": "development"}
    env.pop("TEST_DATABASE_URL", None)
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "app"]

    def run(*args, stdin=None):
        return subprocess.run([*flask, *args], cwd=ROOT, env=env, input=stdin, text=True, capture_output=True,
                              timeout=300)

    assert run("db", "upgrade").returncode == 0
    assert run("users", "create", "eve@example.org", "--name", "Eve", "--role", "editor", "--password-stdin",
               stdin="correct horse battery staple\n").returncode == 0
    total, batch = 12_000, importer.BATCH_SIZE
    path = tmp_path / "complaints.csv"
    path.write_text(cfpb_csv(total), encoding="utf-8")

    def cases() -> int:
        with sqlite3.connect(tmp_path / "app.db", timeout=30) as connection:
            return connection.execute("SELECT count(*) FROM cases").fetchone()[0]

    process = subprocess.Popen([*flask, "import", "cfpb", str(path), "--as", "eve@example.org"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while cases() < batch and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = cases()
    assert 0 < kept < total, "the import was not interrupted mid-way"
    assert kept % batch == 0  # only whole batches
    with sqlite3.connect(tmp_path / "app.db") as connection:
        references = [row[0] for row in connection.execute("SELECT reference FROM cases ORDER BY id")]
        assert references == [f"C-{YEAR}-{n:05d}" for n in range(1, kept + 1)]
        assert connection.execute("SELECT count(*) FROM timeline_entries").fetchone()[0] == kept

    again = run("import", "cfpb", str(path), "--as", "eve@example.org")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Imported {total - kept:,} complaints" in again.stdout
    assert f"Skipped {kept:,} already imported." in again.stdout
    assert cases() == total
    check = run("search", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    verify = run("audit", "verify")
    assert verify.returncode == 0 and "chain intact" in verify.stdout
