"""Dossier rendering benchmark.

Builds a throw-away instance with (1) a case with 20 phone-sized photos (3000×2000 JPEG) and
(2) a business with 50 cases, then prints for each: the app's full export (render, hash, store,
audit), its page count and PDF size, and WeasyPrint alone on the same HTML as the baseline.

    .venv/bin/python bench/dossier_bench.py [--photos 20] [--cases 50]
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
from investigations.businesses.services import complaint_pattern  # noqa: E402
from investigations.cases.services import CaseDetails, create_case  # noqa: E402
from investigations.dossiers.audiences import AUDIENCES, case_content  # noqa: E402
from investigations.dossiers.render import BASE_URL, DossierURLFetcher, photo_url, static_url  # noqa: E402
from investigations.dossiers.services import issue_now, start_dossier  # noqa: E402
from investigations.evidence.services import Upload, add_evidence, finish_upload  # noqa: E402
from investigations.extensions import db  # noqa: E402
from investigations.storage import EvidenceStore  # noqa: E402

WORDS = ("refund warranty contract charge delivery repair manager store receipt cancelled subscription "
         "promised deposit invoice broken leaking faulty technician appointment complaint").split()


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


def weasyprint_alone(template: str, evidence, **context) -> bytes:
    """The baseline: WeasyPrint on the same HTML, no hashing, storing or auditing."""
    from flask import current_app

    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    fetcher = DossierURLFetcher(Path(current_app.static_folder), store, {item.sha256 for item in evidence})
    html = render_template(template, static_url=static_url, photo_url=photo_url, **context)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="dossier-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.db'}", "INSTANCE_DIR": str(work),
                      "EVIDENCE_DIR": str(work / "evidence"), "DOSSIER_DIR": str(work / "dossiers"),
                      "SECRET_KEY": "bench", "EVIDENCE_EXTRACTION": "inline"})
    with app.app_context(), app.test_request_context():
        upgrade()
        editor, _ = create_user("bench@example.org", "Bench Editor", "editor", password="bench password 123")
        db.session.commit()

        print(f"Preparing {args.photos} photos of 3000×2000 px…", file=sys.stderr)
        photos = [phone_photo(i) for i in range(args.photos)]
        base = {"title": "Leaking washer, refund refused", "business_name": "Acme Appliances", "category": "refund",
                "narrative": narrative(rng), "complainant_name": "Carla", "date_received": date.today()}
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
        content = case_content(case, AUDIENCES["bbb"])
        alone_s, _ = timed(lambda: weasyprint_alone("dossiers/case.html", content.evidence, content=content,
                                                    dossier=dossier, audience=AUDIENCES["bbb"],
                                                    issued_at=dossier.issued_at, issued_by="Bench"), args.repeat)
        originals_mb = sum(len(p) for p in photos) / 2**20

        print(f"Preparing {args.cases} cases against one business…", file=sys.stderr)
        for i in range(args.cases):
            create_case(CaseDetails.from_fields({**base, "title": f"Complaint {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}",
                         "business_name": "Globex Corporation", "narrative": narrative(rng),
                         "category": rng.choice(["refund", "warranty", "billing", "contract"]),
                         "amount_in_dispute": rng.randrange(20, 3000),
                         "date_received": date.today() - timedelta(days=rng.randrange(0, 540))}), editor)
        db.session.commit()
        business = case.business.__class__.query.filter_by(slug="globex-corporation").one()

        def export_business():
            dossier = start_dossier(AUDIENCES["bbb"], editor, business=business)
            return dossier, issue_now(dossier)

        business_s, (business_dossier, business_pdf) = timed(export_business, args.repeat)
        cases = sorted(business.cases, key=lambda c: (c.date_received, c.id))
        pattern = complaint_pattern(cases)
        business_alone_s, _ = timed(lambda: weasyprint_alone(
            "dossiers/business.html", [], business=business, contents=[case_content(c, AUDIENCES["bbb"]) for c in cases],
            pattern=pattern, chart=pattern.chart("Complaints received per month"), dossier=business_dossier,
            audience=AUDIENCES["bbb"], issued_at=business_dossier.issued_at, issued_by="Bench"), args.repeat)

        print()
        print(f"{'document':<44} {'app export':>10} {'WeasyPrint':>10} {'ratio':>6} {'pages':>6} {'PDF MB':>7}")
        print(f"{f'case with {args.photos} photos (3000×2000 JPEG)':<44} {app_s:>9.2f}s {alone_s:>9.2f}s "
              f"{app_s / alone_s:>6.2f} {dossier.pages:>6} {len(pdf) / 2**20:>7.2f}")
        print(f"{f'business with {args.cases} cases':<44} {business_s:>9.2f}s {business_alone_s:>9.2f}s "
              f"{business_s / business_alone_s:>6.2f} {business_dossier.pages:>6} {len(business_pdf) / 2**20:>7.2f}")
        print()
        print(f"Median of {args.repeat} runs. Originals of the photos: {originals_mb:.1f} MB; their print copies "
              f"(1600 px, made once at upload) took {upload_s:.1f} s for the whole upload, "
              f"{upload_s / max(args.photos, 1) * 1000:.0f} ms a photo.")
        print("Targets: one case with 20 photos under 3 s and 8 MB; a 50-case business dossier under 30 s.")



if __name__ == "__main__":
    main()
