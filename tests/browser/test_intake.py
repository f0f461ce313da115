"""The public complaint form in a real browser: a consumer on a phone files a complaint with a photo,
keeps the receipt code, checks the status and adds a note; an editor accepts it from the triage
queue; a second complaint from the same address within the minute is refused politely.

Rate limits are on here, so this module runs its own server (the shared one has them off)."""
import re
import threading

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from investigations.auth.accounts import create_user
from investigations.extensions import db, limiter
from investigations.models import Case, Evidence
from tests import evidence_files as files
from tests.browser.conftest import (
    OPEN_PAGES,
    PHONE,
    LiveServer,
    _RecordServerErrors,
    assert_accessible,
    assert_fits,
    open_sized_page,
    sign_in_as,
)
from tests.conftest import PASSWORD, make_app

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py skips these tests, or fails them in CI, and says why
    expect = None
else:
    expect.set_options(timeout=10_000)

EDITOR = "tess.triage@example.org"


@pytest.fixture(scope="module")
def intake_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("intake-browser")
    app = make_app(f"sqlite:///{root / 'intake.db'}", root, TESTING=False, SERVER_NAME=None, WTF_CSRF_ENABLED=True,
                   RATELIMIT_ENABLED=True, PUBLIC_INTAKE=True, INTAKE_MIN_SECONDS=1,
                   INTAKE_RATE_LIMIT="1 per minute", EVIDENCE_EXTRACTION="inline")
    with app.app_context():
        upgrade()
        create_user(EDITOR, "Tess Triage", "editor", password=PASSWORD)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    app.wsgi_app = _RecordServerErrors(app.wsgi_app, live)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield live
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    limiter.enabled = False  # the limiter is one object: the other browser tests' server has it off
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def fill_complaint(page, summary: str) -> None:
    page.get_by_label("In one line, what is your complaint?").fill(summary)
    page.get_by_label("What happened?").fill("The blender broke on the first day and the shop refused a refund.")
    page.get_by_label("Which business is it about?").fill("Blendhouse Stores")
    page.get_by_label("How much money is involved? (if any)").fill("79.00")
    page.get_by_label("Your name").fill("Bea Browser")
    page.get_by_label("Your e-mail address").fill("bea@example.net")
    page.get_by_label("No: keep my name out of anything published").check()
    page.wait_for_timeout(1200)  # a person takes longer than INTAKE_MIN_SECONDS


def test_a_consumer_reports_on_a_phone_and_an_editor_accepts(request, browser, intake_server, tmp_path):
    pages = request.node.stash.setdefault(OPEN_PAGES, [])
    phone = open_sized_page(browser, intake_server, PHONE, phone=True)
    pages.append(phone)
    photo = tmp_path / "blender.jpg"
    photo.write_bytes(files.jpeg())

    phone.goto("/report")
    assert_fits(phone)
    assert_accessible(phone)
    fill_complaint(phone, "Blender refund refused")
    phone.get_by_label("Receipts, photos, letters, e-mails").set_input_files(str(photo))
    phone.get_by_role("button", name="Send my complaint").click()
    expect(phone.get_by_role("heading", name=re.compile("has your complaint"))).to_be_visible()
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", phone.locator(".receipt-code").inner_text()).group(0)
    assert_fits(phone)
    assert_accessible(phone)

    # The same address, within the minute: refused politely, the answers kept.
    phone.goto("/report")
    phone.watch.expected_failures.add(intake_server("/report"))  # the refusal answers 429, on purpose
    fill_complaint(phone, "A second complaint")
    phone.get_by_role("button", name="Send my complaint").click()
    expect(phone.locator("#refusal")).to_contain_text("a complaint was sent from your address a moment ago")
    expect(phone.get_by_label("In one line, what is your complaint?")).to_have_value("A second complaint")

    phone.goto("/report/status")
    phone.get_by_label("Your receipt code").fill(code.lower())
    phone.get_by_role("button", name="Check").click()
    expect(phone.locator(".status-word")).to_have_text("received")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_label("Anything to add?").fill("The shop manager was called Mr Whisk.")
    phone.get_by_role("button", name="Add to my complaint").click()
    expect(phone.get_by_text("we have added your note")).to_be_visible()
    phone.watch.assert_clean()

    desk = open_sized_page(browser, intake_server, {"width": 1280, "height": 900})
    pages.append(desk)
    sign_in_as(desk, EDITOR)
    desk.get_by_role("link", name=re.compile("^Triage")).click()
    desk.get_by_role("link", name="S-00001").click()
    expect(desk.get_by_text("blender.jpg")).to_be_visible()
    assert_accessible(desk)
    desk.get_by_label("Category").select_option("refund")
    desk.get_by_role("button", name="Accept as a case").click()
    expect(desk).to_have_url(re.compile(r"/cases/C-\d{4}-\d{5}$"))
    expect(desk.get_by_text("blender.jpg").first).to_be_visible()
    desk.watch.assert_clean()
    with intake_server.app.app_context():
        case = db.session.scalar(db.select(Case))
        assert case.title == "Blender refund refused" and case.source == "public_form"
        assert [e.original_name for e in db.session.scalars(db.select(Evidence))] == ["blender.jpg"]

    phone.goto("/report/status")
    phone.get_by_label("Your receipt code").fill(code)
    phone.get_by_role("button", name="Check").click()
    expect(phone.locator(".status-word")).to_have_text("being looked into")
