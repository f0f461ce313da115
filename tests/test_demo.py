"""`flask demo seed`: the synthetic archive the demo, the benchmarks and these tests use."""
import random
import re
from datetime import date, timedelta

from sqlalchemy import func, select

from investigations.demo import seed
from investigations.extensions import db
from investigations.models import Business, Case, CaseReferenceCounter, TimelineEntry, User


def test_seed_command_fills_the_archive_and_makes_it_searchable(app, runner, users, login):
    result = runner.invoke(args=["demo", "seed", "--cases", "120", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Added 120 cases" in result.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 120
    assert db.session.scalar(select(func.count()).select_from(Business)) >= 10
    # Every case has its opening timeline entry, and references are unique and counted.
    assert db.session.scalar(select(func.count()).select_from(TimelineEntry).where(
        TimelineEntry.kind == "created")) == 120
    assert sum(db.session.scalars(select(CaseReferenceCounter.last_number))) == 120
    # The existing reporters got the cases; no demo accounts were needed.
    assert not db.session.scalar(select(User).where(User.email.like("%@demo.example")))
    page = login("eve").get("/search", query_string={"q": "refund"}).get_data(as_text=True)
    assert re.search(r"[1-9]\d* cases? in \d+ ms", page)


def test_seed_creates_demo_reporters_on_an_empty_newsroom_and_surges_two_businesses(app):
    report = seed(400, random.Random(5))
    db.session.commit()
    assert len(report.reporters) == 3
    recent = date.today() - timedelta(days=30)
    top_recent = db.session.execute(
        select(Case.business_id, func.count()).where(Case.date_received >= recent)
        .group_by(Case.business_id).order_by(func.count().desc()).limit(2)).all()
    assert all(count >= 5 for _, count in top_recent)


def test_seeding_twice_adds_to_the_archive_without_clashing_references(app, users):
    seed(50, random.Random(1))
    seed(50, random.Random(1))
    db.session.commit()
    references = list(db.session.scalars(select(Case.reference)))
    assert len(references) == len(set(references)) == 100
