"""`flask demo seed`: a synthetic newsroom archive for demos, benchmarks and tests.

The archive looks like a real one where it matters for the product: a few businesses draw
most complaints, two of them surge in the last weeks (the dashboard's "rising" flag), cases
are spread over two and a half years and every status, some replies are overdue, and the
narratives have the word statistics of real prose (a few words everywhere, most words rare),
which is what makes search benchmarks honest. Rows go in with bulk inserts; the search index
is rebuilt afterwards.
"""
import random
import secrets
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate

import click
from flask.cli import AppGroup
from sqlalchemy import func, insert, select

from . import audit
from .businesses.naming import normalize_business_name, slugify
from .database import increment_row
from .extensions import db
from .models import Business, BusinessAlias, Case, CaseReferenceCounter, CaseTag, TimelineEntry, User, utcnow
from .models.cases import CATEGORIES, Status, TimelineKind

demo_cli = AppGroup("demo", help="Fill the database with synthetic demo data.")

WORDS = """refund warranty repair contract charge delivery manager store receipt cancelled subscription promised
deposit invoice broken leaking faulty technician appointment complaint customer service phone email letter
insurance claim denied payment card bank account fee overcharged late interest loan car dealer engine
mileage landlord rent apartment mold heating contractor roof kitchen window door flight hotel booking
ticket luggage internet cable router outage bill gym membership trial renew automatic scam fraud caller
gift voucher price advertised sale discount shipping package missing damaged return policy exchange
credit collector debt letter threat court lawyer medical clinic dentist pharmacy prescription""".split()
SYLLABLES = "ka lo mi ter ven dor pla sto re an ex cor tri mon gal fen har lis por quin sel tov ur".split()
FIRST = "Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Soylent Tyrell Cyberdyne Wonka Oceanic".split()
SECOND = "Appliances Motors Homes Telecom Insurance Travel Fitness Bank Furniture Electronics Repairs Realty".split()
SUFFIXES = ["Inc.", "LLC", "Ltd", "Co.", "Group", ""]
REGIONS = ["California", "Texas", "New York", "Ohio", "Florida", "Illinois", None]
OPENINGS = {
    "refund": "I returned the item within the return period and the store still refuses my refund.",
    "warranty": "The product failed while under warranty and the company will not repair or replace it.",
    "billing": "I was charged fees I never agreed to and they keep appearing on my bill.",
    "advertising": "The price and features advertised were not what I got at the till.",
    "faulty_product": "The product was faulty from the first day and is now unsafe to use.",
    "contract": "My subscription renewed automatically although I had cancelled it in writing.",
    "delivery": "I paid in full weeks ago and the order never arrived.",
    "debt_collection": "A collector keeps calling about a debt I do not owe and threatens court.",
    "housing": "My landlord has ignored the mold and the broken heating for months.",
    "home_improvement": "The contractor took a deposit, started the roof and never came back.",
    "auto": "The dealer sold me a car with a hidden fault and false mileage.",
    "travel": "The flight was cancelled and the airline refuses the refund the rules require.",
    "telecom": "My internet has been down for weeks and they still charge me in full.",
    "financial": "The bank charged interest and fees on a loan I had already repaid.",
    "scam": "A caller posing as my bank talked me into a payment I cannot get back.",
    "other": "The company has not answered any of my letters or calls.",
}
NOTES = ["Called the complainant; documents promised by e-mail.", "Left a message with the company's press office.",
         "Compared with similar complaints against the same business.", "Receipt and contract checked: dates match.",
         "Company asked for more time to answer.", "Complainant sent photos of the damage."]
STATUS_WEIGHTS = {Status.NEW: 25, Status.INVESTIGATING: 25, Status.AWAITING_RESPONSE: 15, Status.RESOLVED: 20,
                  Status.PUBLISHED: 8, Status.CLOSED: 7}


@dataclass
class SeedReport:
    cases: int
    businesses: int
    reporters: list[tuple[str, str]]  # (e-mail, one-time password) of reporters created for the demo


def vocabulary(rng: random.Random, size: int = 6000) -> tuple[list[str], list[float]]:
    """Complaint words plus invented ones, with Zipf-like frequencies, as real prose has: a few
    words are everywhere, most are rare (so most searches match a small part of the archive)."""
    words = list(WORDS)
    while len(words) < size:
        word = "".join(rng.choices(SYLLABLES, k=rng.randrange(2, 4)))
        if word not in words:
            words.append(word)
    rng.shuffle(words)
    return words, [1 / (rank + 1) for rank in range(len(words))]


def _reporters(rng: random.Random) -> tuple[list[User], list[tuple[str, str]]]:
    """The newsroom's reporters; three demo reporters are created if there are none."""
    from .auth.accounts import create_user

    reporters = list(db.session.scalars(select(User).where(User.role == "reporter", User.active.is_(True))))
    created = []
    if not reporters:
        for number in range(1, 4):
            password = secrets.token_urlsafe(12)
            user, _ = create_user(f"reporter{number}@demo.example", f"Demo Reporter {number}", "reporter",
                                  password=password)
            reporters.append(user)
            created.append((user.email, password))
        db.session.flush()
    return reporters, created


def _businesses(n: int, rng: random.Random) -> list[int]:
    rows, seen = [], set(db.session.scalars(select(Business.normalized_name)))
    now = utcnow()
    while len(rows) < n:
        name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {rng.randrange(1, 400)} {rng.choice(SUFFIXES)}".strip()
        normalized = normalize_business_name(name)
        if normalized in seen:
            continue
        seen.add(normalized)
        rows.append({"name": name, "normalized_name": normalized, "slug": f"{slugify(name)}-{secrets.token_hex(3)}",
                     "region": rng.choice(REGIONS), "created_at": now, "updated_at": now})
    db.session.execute(insert(Business), rows)
    ids = list(db.session.scalars(select(Business.id).where(
        Business.normalized_name.in_([row["normalized_name"] for row in rows]))))
    aliases = []
    for business_id, row in zip(ids[: max(1, n // 10)], rows, strict=False):
        alias = row["name"].split()[0].upper() + " " + row["name"].split()[1] + " Outlet"
        if normalize_business_name(alias) not in seen:
            seen.add(normalize_business_name(alias))
            aliases.append({"business_id": business_id, "name": alias, "normalized_name": normalize_business_name(alias)})
    if aliases:
        db.session.execute(insert(BusinessAlias), aliases)
    return ids


def _references(received: list[date]) -> list[str]:
    """Claim a block of case numbers per year, as filing does one at a time."""
    per_year: dict[int, int] = {}
    for day in received:
        per_year[day.year] = per_year.get(day.year, 0) + 1
    next_number = {}
    for year, count in per_year.items():
        row = increment_row(db.session.connection(), CaseReferenceCounter.__table__, {"year": year}, "last_number",
                            by=count)
        next_number[year] = row.last_number - count + 1
    references = []
    for day in received:
        references.append(f"C-{day.year}-{next_number[day.year]:05d}")
        next_number[day.year] += 1
    return references


def seed(n_cases: int, rng: random.Random | None = None, today: date | None = None,
         n_businesses: int | None = None, progress=None) -> SeedReport:
    """Add `n_cases` synthetic cases (and their businesses, tags and timelines); the caller commits."""
    rng = rng or random.Random()
    today = today or date.today()
    words, weights = vocabulary(rng)
    # Cumulative weights, summed once: choices() would sum 6,000 weights again at every call (the
    # same draws either way).
    weights = list(accumulate(weights))
    reporters, created = _reporters(rng)
    editor = db.session.scalar(select(User).where(User.role.in_(["editor", "admin"])).order_by(User.id)) \
        or reporters[0]
    business_ids = _businesses(n_businesses or min(2000, max(10, n_cases // 20)), rng)
    # A few businesses draw most complaints; two of them surge in the last 30 days.
    business_weights = list(accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(business_ids))))
    rising = business_ids[-2:] if len(business_ids) > 4 else []
    statuses, status_weights = list(STATUS_WEIGHTS), list(accumulate(STATUS_WEIGHTS.values()))
    now = utcnow()
    for start in range(0, n_cases, 1000):
        size = min(1000, n_cases - start)
        received = []
        chosen = []
        for _ in range(size):
            if rising and rng.random() < 0.04:
                chosen.append(rng.choice(rising))
                received.append(today - timedelta(days=rng.randrange(0, 30)))
            else:
                chosen.append(rng.choices(business_ids, cum_weights=business_weights)[0])
                received.append(today - timedelta(days=int(rng.triangular(0, 900, 0))))
        rows = []
        for business_id, day, reference in zip(chosen, received, _references(received), strict=True):
            category = rng.choice(list(CATEGORIES))
            status = rng.choices(statuses, cum_weights=status_weights)[0]
            reporter = rng.choice(reporters)
            requested = day + timedelta(days=rng.randrange(1, 20)) if status == Status.AWAITING_RESPONSE else None
            rows.append({
                "reference": reference,
                "title": " ".join(rng.choices(words, cum_weights=weights, k=rng.randrange(3, 8))).capitalize(),
                "narrative": OPENINGS[category] + " " + " ".join(
                    rng.choices(words, cum_weights=weights, k=rng.randrange(80, 400))).capitalize() + ".",
                "category": category, "status": status.value, "business_id": business_id,
                "complainant_name": f"Demo Complainant {reference[-5:]}", "consent_to_publish": rng.random() < 0.3,
                "complainant_email": f"complainant.{reference.lower()}@demo.example",
                "amount_in_dispute": rng.choice([None, rng.randrange(20, 5000)]), "currency": "USD",
                "date_received": day, "received_via": rng.choice(["web", "email", "phone", "letter"]),
                "created_by_id": reporter.id, "assigned_to_id": reporter.id if rng.random() < 0.85 else None,
                "response_requested_on": requested,
                "response_due_on": requested + timedelta(days=30) if requested else None,
                "created_at": datetime.combine(day, time(9)), "updated_at": now,
            })
        db.session.execute(insert(Case), rows)
        ids = dict(db.session.execute(select(Case.reference, Case.id).where(
            Case.reference.in_([row["reference"] for row in rows]))).all())
        tags, entries = [], []
        for row in rows:
            case_id = ids[row["reference"]]
            for tag in {row["category"].replace("_", " "), *rng.sample(["urgent", "elderly", "pattern", "online",
                                                                        "follow-up", "small claims"], k=rng.randrange(0, 3))}:
                tags.append({"case_id": case_id, "name": tag})
            opened = row["created_at"]
            entries.append({"case_id": case_id, "author_id": row["created_by_id"], "kind": TimelineKind.CREATED.value,
                            "body": "Case opened.", "internal": False, "occurred_at": opened, "created_at": opened})
            for offset in range(rng.randrange(0, 3)):
                moment = opened + timedelta(days=offset + 1)
                entries.append({"case_id": case_id, "author_id": row["created_by_id"], "kind": TimelineKind.NOTE.value,
                                "body": rng.choice(NOTES), "internal": True, "occurred_at": moment,
                                "created_at": moment})
        db.session.execute(insert(CaseTag), tags)
        db.session.execute(insert(TimelineEntry), entries)
        if progress:
            progress(size)
    audit.record("demo.seed", actor=editor, cases=n_cases, businesses=len(business_ids))
    return SeedReport(n_cases, len(business_ids), created)


@demo_cli.command("seed")
@click.option("--cases", "n_cases", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option("--seed", "rng_seed", type=int, default=None, help="Random seed, for the same archive every time.")
def seed_command(n_cases, rng_seed):
    """Add synthetic cases, businesses and timelines, then rebuild the search index."""
    from flask import current_app

    from .search import maintenance

    sync = current_app.config["SEARCH_SYNC"]
    current_app.config["SEARCH_SYNC"] = False  # one rebuild at the end instead of a write per batch
    try:
        with click.progressbar(length=n_cases, label="Creating cases", file=sys.stderr) as bar:
            report = seed(n_cases, random.Random(rng_seed), progress=bar.update)
        db.session.commit()
    finally:
        current_app.config["SEARCH_SYNC"] = sync
    total = db.session.scalar(select(func.count()).select_from(Case))
    with click.progressbar(length=total, label="Indexing for search", file=sys.stderr) as bar:
        maintenance.reindex(progress=bar.update)
    click.echo(f"Added {report.cases} cases against {report.businesses} businesses.")
    for email, password in report.reporters:
        click.echo(f"Demo reporter {email}, password {password} (shown once)")
