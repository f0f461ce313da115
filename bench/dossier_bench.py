"""Dossier rendering benchmark.

Builds a throw-away instance with (1) a case with 20 phone-sized photos (3000×2000 JPEG) and
(2) a business with 1,000 cases (imported-complaint style: issues and sub-issues, some answered),
then prints for each: the app's full export (PDF/A-3b render with its attached manifest and case
data, hash, store, audit, timeline), its page count and PDF size, and, as the baseline measured in
the same run, WeasyPrint alone writing a plain PDF of the same HTML with the same URL fetcher.
For the photos it also times making the print copies at upload.

    .venv/bin/python bench/dossier_bench.py [--photos 20] [--cases 1000] [--repeat 3]
"""
import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import render_template  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter  # noqa: E402
from weasyprint import HTML  # noqa: E402

from investigations import create_app  # noqa: E402
from investigations.auth.accounts import create_user  # noqa: E402
from investigations.cases.services import CaseDetails, create_case  # noqa: E402
from investigations.dossiers.audiences import AUDIENCES  # noqa: E402
from investigations.dossiers.render import BASE_URL, DossierURLFetcher, photo_url, static_url  # noqa: E402
from investigations.dossiers.selection import Selection  # noqa: E402
from investigations.dossiers.services import dossier_document, issue_now, start_dossier  # noqa: E402
from investigations.evidence import images  # noqa: E402
from investigations.evidence.services import Upload, add_evidence, finish_upload  # noqa: E402
from investigations.extensions import db  # noqa: E402
from investigations.models import Business  # noqa: E402
from investigations.storage import EvidenceStore  # noqa: E402

WORDS = ("refund warranty contract charge delivery repair manager store receipt cancelled subscription "
         "promised deposit invoice broken leaking faulty technician appointment complaint").split()
ISSUES = {
    "Incorrect information on your report": ["Information belongs to someone else", "Account status incorrect",
                                              "Account information incorrect"],
    "Problem with a company's investigation into an existing problem": [
        "Their investigation did not fix an error on your report", "Investigation took more than 30 days"],
    "Improper use of your report": ["Reporting company used your report improperly",
                                    "Credit inquiries on your report that you don't recognize"],
    "Attempts to collect debt not owed": ["Debt is not yours", "Debt was paid"],
    "Trouble during payment process": ["Problem with additional add-on products", "Problem caused by your funds"],
}
COMPANY_RESPONSES = ["Closed with explanation", "Closed with non-monetary relief", "Closed with monetary relief",
                     "In progress"]


def phone_photo(seed: int) -> bytes:
    """A 3000×2000 JPEG with enough texture to weigh what a phone photo weighs (1.5-3 MB)."""
    rng = random.Random(seed)
    small = Image.effect_noise((750, 500), 60).convert("RGB")
    draw = ImageDraw.Draw(small)
    for _ in range(40):
        x, y = rng.randrange(750), rng.randrange(500)
        draw.ellipse([x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)],
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    image = small.resize((3000, 2000), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1))
    noise = Image.effect_noise((3000, 2000), 30).convert("RGB")
    image = Image.blend(image, noise, 0.25)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def narrative(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(120, 400))).capitalize() + "."


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def weasyprint_alone(dossier) -> bytes:
    """The baseline: WeasyPrint writing a plain PDF of the same HTML (same template, context and URL
    fetcher), without PDF/A, attachments, hashing, storing, auditing or the timeline."""
    from flask import current_app

    document = dossier_document(dossier)
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    fetcher = DossierURLFetcher(Path(current_app.static_folder), store, {item.sha256 for item in document.evidence})
    html = render_template(document.template, static_url=static_url, photo_url=photo_url, **document.context)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()


def file_business_cases(editor, count: int, rng: random.Random) -> None:
    today = date.today()
    for i in range(count):
        issue = rng.choice(list(ISSUES))
        asked = rng.random() < 0.6
        requested = today - timedelta(days=rng.randrange(40, 700))
        case, _ = create_case(CaseDetails.from_fields({
            "title": f"{issue}: {rng.choice(WORDS)} {rng.choice(WORDS)} ({i})", "business_name": "Globex Corporation",
            "narrative": narrative(rng), "category": rng.choice(["financial", "debt_collection", "billing"]),
            "complainant_name": f"Consumer {i} Lastname{i}", "complainant_email": f"consumer{i}@example.net",
            "amount_in_dispute": rng.randrange(20, 3000), "date_received": today - timedelta(days=rng.randrange(0, 720)),
        }), editor)
        case.received_via, case.source, case.source_id = "import", "cfpb", str(4_000_000 + i)
        case.issue, case.sub_issue = issue, rng.choice(ISSUES[issue])
        case.company_response = rng.choice(COMPANY_RESPONSES)
        case.timely_response = rng.random() < 0.9
        if asked:
            case.response_requested_on = requested
            case.response_due_on = requested + timedelta(days=30)
            if rng.random() < 0.7:
                case.response_received_on = requested + timedelta(days=rng.randrange(1, 45))
                case.business_response = "We looked into it."
        if i % 200 == 199:
            db.session.commit()
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="dossier-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.db'}", "INSTANCE_DIR": str(work),
                      "EVIDENCE_DIR": str(work / "evidence"), "DOSSIER_DIR": str(work / "dossiers"),
                      "SECRET_KEY": "bench", "EVIDENCE_EXTRACTION": "inline", "SEARCH_SYNC": False,
                      "NEWSROOM_NAME": "Bench newsroom", "JOBS_IMMEDIATE": True})
    with app.app_context(), app.test_request_context():
        upgrade()
        editor, _ = create_user("bench@example.org", "Bench Editor", "editor", password="bench password 123")
        db.session.commit()

        print(f"Preparing {args.photos} photos of 3000×2000 px…", file=sys.stderr)
        photos = [phone_photo(i) for i in range(args.photos)]
        base = {"title": "Leaking washer, refund refused", "business_name": "Acme Appliances", "category": "refund",
                "narrative": narrative(rng), "complainant_name": "Carla", "date_received": date.today(),
                "consent_to_publish": True}
        case, _ = create_case(CaseDetails.from_fields(base), editor)
        db.session.commit()
        started = time.perf_counter()
        uploaded = add_evidence(case, [Upload(io.BytesIO(p), f"photo-{i}.jpg") for i, p in enumerate(photos)], editor)
        db.session.commit()
        finish_upload(uploaded)
        upload_s = time.perf_counter() - started

        def export_case():
            dossier = start_dossier(AUDIENCES["bbb"], editor, case=case)
            return dossier, issue_now(dossier)

        app_s, (dossier, pdf) = timed(export_case, args.repeat)
        alone_s, alone_pdf = timed(lambda: weasyprint_alone(dossier), args.repeat)
        originals_mb = sum(len(p) for p in photos) / 2**20

        print(f"Preparing {args.cases} cases against one business…", file=sys.stderr)
        started = time.perf_counter()
        file_business_cases(editor, args.cases, rng)
        print(f"  filed in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        business = db.session.query(Business).filter_by(slug="globex-corporation").one()

        def export_business():
            dossier = start_dossier(AUDIENCES["bbb"], editor, business=business, selection=Selection())
            return dossier, issue_now(dossier)

        business_s, (business_dossier, business_pdf) = timed(export_business, args.repeat)
        business_alone_s, business_alone_pdf = timed(lambda: weasyprint_alone(business_dossier), args.repeat)

        print()
        print(f"{'document':<46} {'app export':>10} {'WeasyPrint':>10} {'ratio':>6} {'pages':>6} {'PDF MB':>7}")
        print(f"{f'case with {args.photos} photos (3000×2000 JPEG)':<46} {app_s:>9.2f}s {alone_s:>9.2f}s "
              f"{app_s / alone_s:>6.2f} {dossier.pages:>6} {len(pdf) / 2**20:>7.2f}")
        print(f"{f'business with {args.cases} cases, 20 in full':<46} {business_s:>9.2f}s {business_alone_s:>9.2f}s "
              f"{business_s / business_alone_s:>6.2f} {business_dossier.pages:>6} {len(business_pdf) / 2**20:>7.2f}")
        print()
        print(f"Median of {args.repeat} runs. App export: PDF/A-3b with the manifest and case data attached, "
              f"stored, audited, on each case's timeline; WeasyPrint alone: a plain PDF of the same HTML "
              f"({len(alone_pdf) / 2**20:.2f} MB and {len(business_alone_pdf) / 2**20:.2f} MB).")
        print(f"Originals of the photos: {originals_mb:.1f} MB; their print copies ({images.PRINT_PX} px, JPEG quality "
              f"{images.PRINT_QUALITY}, made once at upload with the thumbnails) took {upload_s:.1f} s for the "
              f"whole upload, {upload_s / max(args.photos, 1) * 1000:.0f} ms a photo.")
        photo_ok = app_s <= 1 and len(pdf) <= 5 * 2**20
        business_ok = business_s <= 10 and business_dossier.pages <= 60
        print(f"Targets: the {args.photos}-photo dossier ≤ 1 s and ≤ 5 MB: {'holds' if photo_ok else 'NOT MET'}; "
              f"the {args.cases}-case business dossier ≤ 10 s and ≤ 60 pages: {'holds' if business_ok else 'NOT MET'}.")


if __name__ == "__main__":
    main()
