"""Right of reply in the browser: a reporter writes to the business from the case page and sends
the letter by hand; the business answers on a phone through the letter's private link, with a
photo; the answer is on the case. A wrong or expired link shows nothing.

The case belongs to an account of this module only (roy), so other journeys see the server as before.
"""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from investigations.auth.accounts import create_user
from investigations.businesses.services import BusinessDetails, update_business
from investigations.cases.services import CaseDetails, change_status, create_case
from investigations.extensions import db
from investigations.models import ReplyLetter
from investigations.models.cases import Status
from tests import evidence_files as files
from tests.browser.conftest import DESK, PHONE, assert_accessible, assert_fits, sign_in_as
from tests.conftest import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py skips these tests, or fails them in CI, and says why
    expect = None
else:
    expect.set_options(timeout=10_000)

ROY = "roy.reply@example.org"
COMPLAINANT = "Odile Quennell-Marsh"


@pytest.fixture(scope="module")
def reply_case(live_server):
    """Roy's case under investigation, against a business with a press contact; the complainant did
    not consent, and Roy typed her name into the narrative."""
    with live_server.app.app_context():
        roy = create_user(ROY, "Roy Reply", "reporter", password=PASSWORD)[0]
        case, _ = create_case(CaseDetails.from_fields({
            "title": "Replyco kept a deposit for a cancelled kitchen",
            "narrative": f"{COMPLAINANT} paid a 1,200 deposit for a kitchen, cancelled within the cooling-off "
                         f"period, and Replyco kept the deposit.",
            "business_name": "Replyco Kitchens", "category": "refund", "received_via": "phone",
            "date_received": date.today(), "amount_in_dispute": "1200", "currency": "USD",
            "complainant_name": COMPLAINANT, "complainant_email": "odile@example.net"}), roy)
        db.session.flush()
        change_status(case, Status.INVESTIGATING, roy)
        update_business(case.business, BusinessDetails.of(case.business).replace(
            contact_name="Pat Press", contact_email="press@replyco.example"))
        db.session.commit()
        return case.reference


def _token_from(text: str) -> str:
    match = re.search(r"/reply/([A-Za-z0-9_-]{20,})", text)
    assert match, text
    return match.group(1)


def test_the_business_answers_through_the_letters_link_and_the_answer_is_on_the_case(
        sized_page, live_server, reply_case):
    reporter = sized_page(DESK)
    sign_in_as(reporter, ROY)
    reporter.goto(f"/cases/{reply_case}")
    reporter.get_by_role("button", name="Ask the business for its response").click()
    expect(reporter.get_by_role("heading", level=1)).to_have_text("Ask Replyco Kitchens for its response")
    body = reporter.get_by_label("Letter")
    expect(body).to_contain_text("Dear Pat Press")
    expect(body).to_contain_text("[complainant] paid a 1,200 deposit")
    assert COMPLAINANT.split()[0] not in body.input_value()
    expect(reporter.get_by_label("E-mail address")).to_have_value("press@replyco.example")
    assert_accessible(reporter)
    # The reporter edits the letter (and slips the complainant's name in), previews it, sends it by hand.
    body.fill(body.input_value() + f"\n\nPlease also tell us whether you spoke to {COMPLAINANT}.")
    reporter.get_by_role("button", name="Preview").click()
    preview = reporter.locator("#preview")
    expect(preview).to_contain_text("whether you spoke to [complainant]")
    reporter.get_by_label("I will send it myself").check()
    reporter.get_by_role("button", name="Send the letter").click()
    expect(reporter.locator(".flash")).to_contain_text("Send the PDF or the text below to the business yourself")
    text = reporter.get_by_label("The letter as text, with its private link").input_value()
    assert COMPLAINANT.split()[0] not in text and "whether you spoke to [complainant]" in text
    token = _token_from(text)
    assert_accessible(reporter)
    with reporter.expect_download() as download:
        reporter.get_by_role("button", name="Download the PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")

    # The business, on a phone, with nothing but the link.
    business = sized_page(PHONE, phone=True)
    business.goto(f"/reply/{token}")
    expect(business.get_by_role("heading", level=1)).to_have_text(re.compile("Your response to a consumer complaint"))
    expect(business.locator("#letter")).to_contain_text("whether you spoke to [complainant]")
    assert business.get_by_role("link", name=re.compile("Cases|Search|Dashboard")).count() == 0
    assert_fits(business)
    assert_accessible(business)
    business.get_by_label("Your name").fill("Pat Press")
    business.get_by_label("Your position at the business").fill("Customer relations")
    business.get_by_label("Your answer").fill("We returned the deposit on 3 December; the bank transfer is attached.")
    business.get_by_label("Documents (optional)").set_input_files(
        {"name": "transfer.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg()})
    business.get_by_role("button", name="Send your answer").click()
    expect(business.locator(".flash")).to_contain_text("Thank you. Your answer was received")
    expect(business.locator("#your-answer")).to_contain_text("transfer.jpg")
    expect(business.get_by_role("button", name="Send your answer")).to_have_count(0)  # read-only now
    assert_fits(business)
    assert_accessible(business)

    # The answer is on the case: in the business response, on the timeline, with its file.
    reporter.goto(f"/cases/{reply_case}")
    expect(reporter.locator("article#response")).to_contain_text("We returned the deposit on 3 December")
    expect(reporter.locator("article#response")).to_contain_text("answered online")
    expect(reporter.locator("#timeline li").filter(has_text="answered right-of-reply letter")).to_contain_text(
        "Pat Press, Customer relations")
    expect(reporter.locator("#evidence")).to_contain_text("transfer.jpg")
    reporter.watch.assert_clean()
    business.watch.assert_clean()

    # A wrong link shows nothing; nor does the right one once its time has passed.
    stranger = sized_page(PHONE, phone=True)
    for path in (f"/reply/{token[:-2]}xy", f"/reply/{'Z' * 43}"):
        response = stranger.watch.goto_expecting_error(path)
        assert response.status == 404
        expect(stranger.get_by_role("heading", level=1)).to_have_text("No letter here")
        assert "Replyco" not in stranger.content() and reply_case not in stranger.content()
    with live_server.app.app_context():
        letter = db.session.scalar(select(ReplyLetter).where(ReplyLetter.form_nonce.isnot(None))
                                   .order_by(ReplyLetter.id.desc()))
        letter.expires_on = date.today() - timedelta(days=1)
        db.session.commit()
    response = stranger.watch.goto_expecting_error(f"/reply/{token}")
    assert response.status == 404
    assert "Replyco" not in stranger.content() and "deposit" not in stranger.content()
    assert_accessible(stranger)
    stranger.watch.assert_clean()
