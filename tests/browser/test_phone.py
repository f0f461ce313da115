"""On a phone (390×844) and at a desk (1366×900): no page scrolls sideways, the header collapses
into a menu on the phone and stays on one line at the desk, and axe-core finds no WCAG 2.1 A/AA
violation on the pages this work changed.

The cases here belong to accounts of this module only (pia, a reporter, and ed, an editor), so
the journeys of test_journeys.py see the same server as before.
"""
from datetime import date, timedelta
from typing import NamedTuple

import pytest

from investigations.auth.accounts import create_user
from investigations.cases.services import CaseDetails, add_note, change_status, create_case
from investigations.extensions import db
from investigations.models import User
from investigations.models.cases import Status, TimelineKind
from tests import evidence_files as files
from tests.browser.conftest import (
    ARTIFACTS,
    DESK,
    PHONE,
    assert_accessible,
    assert_fits,
    sign_in_as,
)
from tests.conftest import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py skips these tests, or fails them in CI, and says why
    expect = None
else:
    expect.set_options(timeout=10_000)

class PhoneCases(NamedTuple):
    long_title: str
    awaiting: str
    callback: str
    due: str  # the awaiting case's reply due date, as pages show it


PIA = "pia.phone@example.org"
ED = "ed.phone@example.org"
ADA = "ada.phone@example.org"


@pytest.fixture(scope="module")
def phone_cases(live_server):
    """Pia's cases: one with a long unbroken title and a complainant's phone and e-mail, one
    awaiting the business's reply, one with a callback due; eve's editor account sees them all."""
    with live_server.app.app_context():
        pia = create_user(PIA, "Pia Phone", "reporter", password=PASSWORD)[0]
        create_user(ED, "Ed Phone-Editor", "editor", password=PASSWORD)
        create_user(ADA, "Ada Phone-Administrator", "admin", password=PASSWORD)
        db.session.commit()
        base = {"narrative": "The washing machine leaked on the first wash and the shop refused a refund.",
                "category": "refund", "received_via": "phone", "date_received": date.today(),
                "complainant_name": "Paula Caller", "complainant_email": "paula.caller@example.net",
                "complainant_phone": "+1 555 0142", "complainant_address": "12 Long Road"}
        first, _ = create_case(CaseDetails.from_fields({**base, "title": "Refund refused: Supercalifragilisticexpialidociouswashingmachine",
                                "business_name": "Phonewidth Appliances International Holdings Limited"}), pia)
        second, _ = create_case(CaseDetails.from_fields({**base, "title": "Phonewidth boiler never fitted",
                                 "narrative": "The boiler was paid for in March and never fitted.",
                                 "business_name": "Phonewidth Heating"}), pia)
        db.session.flush()
        change_status(second, Status.INVESTIGATING, pia)
        change_status(second, Status.AWAITING_RESPONSE, pia)
        third, _ = create_case(CaseDetails.from_fields({**base, "title": "Phonewidth sofa delivered torn",
                                "narrative": "The sofa arrived torn; the store says it left the warehouse whole.",
                                "business_name": "Phonewidth Furniture"}), pia)
        db.session.flush()
        add_note(third, TimelineKind.CALL, "Store manager will call back about the torn sofa.", pia,
                 follow_up_on=date.today() + timedelta(days=2))
        db.session.commit()
        references = PhoneCases(first.reference, second.reference, third.reference,
                                f"{second.response_due_on:%-d %b %Y}")
        assert db.session.get(User, pia.id).active
    return references


def _check(page, name: str) -> None:
    """The page fits the window and passes axe; a screenshot is kept for a person to look at
    (tests/browser/artifacts/pages/<name>.png)."""
    page.wait_for_load_state("networkidle")
    (ARTIFACTS / "pages").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pages" / f"{name}.png"), full_page=True)  # to look at; not committed
    assert_fits(page)
    assert_accessible(page)




def test_on_a_phone_no_page_is_wider_than_the_screen_and_the_menu_opens(sized_page, phone_cases):
    page = sized_page(PHONE, phone=True)
    sign_in_as(page, PIA)
    _check(page, "phone-my-work")
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()

    # The header is one line with a Menu button; the navigation shows when it is pressed.
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    cases_link = page.get_by_role("link", name="Cases", exact=True)
    expect(cases_link).to_be_hidden()
    assert page.locator("header").bounding_box()["height"] < 120
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(cases_link).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search cases")).to_be_visible()
    _check(page, "phone-menu-open")
    page.keyboard.press("Escape")
    expect(cases_link).to_be_hidden()

    # The case list: cards with reference, title, business, status and reply due.
    menu.click()
    cases_link.click()
    expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    card = page.locator("table.case-table tbody tr").filter(has_text=phone_cases.awaiting)
    expect(card).to_be_visible()
    for text in ("Phonewidth boiler never fitted", "Phonewidth Heating", "Awaiting business response",
                 phone_cases.due):
        expect(card).to_contain_text(text)
    expect(card.get_by_role("cell", name=f"Reply due: {phone_cases.due}")).to_be_visible()
    assert card.bounding_box()["width"] <= PHONE["width"]
    _check(page, "phone-case-list")

    # The case page: one column, "Add note" and "Log a call" at the top.
    page.get_by_role("link", name="Refund refused: Supercalifragilisticexpialidociouswashingmachine").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Supercalifragilistic")
    add_note = page.get_by_role("button", name="Add note")
    log_call = page.get_by_role("button", name="Log a call")
    expect(add_note).to_be_in_viewport()
    expect(log_call).to_be_in_viewport()
    timeline = page.locator("#timeline").bounding_box()
    side = page.locator("aside.case-side").bounding_box()
    assert side["y"] > timeline["y"] and abs(side["x"] - timeline["x"]) < 30, (timeline, side)  # one column
    _check(page, "phone-case-page")
    log_call.click()
    expect(page.locator("#add-note").get_by_label("Kind")).to_have_value("call")

    # The complainant's phone and e-mail are tap links.
    page.get_by_role("link", name="Show contact details").click()
    expect(page.get_by_role("link", name="+1 555 0142")).to_have_attribute("href", "tel:+15550142")
    expect(page.get_by_role("link", name="paula.caller@example.net")).to_have_attribute(
        "href", "mailto:paula.caller@example.net")
    _check(page, "phone-complainant")

    # The new-case form, with a phone's keyboards for e-mail and phone, and its category to choose.
    page.goto("/cases/new")
    expect(page.get_by_label("Category")).to_have_value("")
    expect(page.get_by_label("E-mail", exact=True)).to_have_attribute("type", "email")
    expect(page.get_by_label("Phone", exact=True)).to_have_attribute("type", "tel")
    # Before filing, the form says whether the business is new to the archive.
    business = page.get_by_label("Business")
    business.fill("Brand New Phonewidth Traders")
    expect(page.locator("[data-business-check]")).to_have_text(
        "“Brand New Phonewidth Traders” is not in the archive yet: filing this case adds it as a new business.")
    business.fill("phonewidth heating")
    expect(page.locator("[data-business-check]")).to_have_text("Filed against Phonewidth Heating, already in the archive.")
    _check(page, "phone-new-case")

    # Search, and the evidence upload offers the camera and the file picker.
    page.goto("/search?q=phonewidth")
    expect(page.locator("article.hit")).to_have_count(3)
    _check(page, "phone-search")
    page.goto(f"/cases/{phone_cases.long_title}")
    picker = page.locator("#evidence").get_by_label("Add files")
    accept = picker.get_attribute("accept") or ""
    assert "image/*" in accept and ".pdf" in accept and picker.get_attribute("multiple") is not None, accept
    camera = page.locator("#evidence").get_by_label("Or take a photo")
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("accept") == "image/*"
    # A photo from the camera: it is stored, shows on the timeline and moves the case's last change.
    last_change = page.locator("dt:has-text('Last change') + dd").inner_text()
    camera.set_input_files({"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg()})
    page.locator("#evidence").get_by_role("button", name="Upload").click()
    expect(page.locator(".flash").filter(has_text=f"1 file added to {phone_cases.long_title}.")).to_be_visible()
    expect(page.locator("#evidence tbody tr").filter(has_text="IMG_0042.jpg")).to_have_count(1)
    expect(page.locator("#timeline li").filter(has_text="Added IMG_0042.jpg (JPEG image).")).to_contain_text(
        "Evidence added")
    assert page.locator("dt:has-text('Last change') + dd").inner_text() >= last_change
    _check(page, "phone-case-with-photo")
    page.watch.assert_clean()


def _assert_one_line(page) -> None:
    items = page.locator("#site-menu > li")
    boxes = [items.nth(i).bounding_box() for i in range(items.count())]
    assert boxes and all(box for box in boxes)
    lowest_top, highest_bottom = max(b["y"] for b in boxes), min(b["y"] + b["height"] for b in boxes)
    assert lowest_top < highest_bottom, f"the header wraps at {page.viewport_size['width']} px: {boxes}"
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] < 110, header  # one line of navigation: about 100 px


def test_at_a_desk_the_header_stays_on_one_line_and_the_pages_pass_axe(sized_page, phone_cases):
    # The admin's header is the longest: every item of it on one line.
    admin = sized_page(DESK)
    sign_in_as(admin, ADA)
    expect(admin.get_by_role("link", name="Admin", exact=True)).to_be_visible()
    _assert_one_line(admin)
    # Deactivating Pia, who has open cases: the form warns and asks who takes them over.
    admin.goto("/admin/users")
    admin.get_by_role("row").filter(has_text=PIA).get_by_role("link", name="Edit").click()
    expect(admin.locator(".deactivation")).to_contain_text("Pia Phone has 3 open cases")
    expect(admin.get_by_label("Their open cases go to")).to_be_visible()
    _check(admin, "desk-admin-deactivate")

    page = sized_page(DESK)
    sign_in_as(page, ED)
    _assert_one_line(page)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    for path, name in ((f"/cases/{phone_cases.awaiting}", "desk-case-page"), ("/cases/", "desk-case-list"),
                       ("/cases/new", "desk-new-case"), ("/search?q=phonewidth", "desk-search"),
                       ("/work/", "desk-my-work")):
        page.goto(path)
        _check(page, name)
    page.watch.assert_clean()


def test_an_editors_pages_fit_a_phone_and_pass_axe(sized_page, phone_cases):
    page = sized_page(PHONE, phone=True)
    sign_in_as(page, ED)
    for path, name in (("/dashboard/", "phone-dashboard"), ("/cases/", "phone-editor-case-list"),
                       (f"/cases/{phone_cases.callback}", "phone-editor-case-page")):
        page.goto(path)
        _check(page, name)
    page.watch.assert_clean()
