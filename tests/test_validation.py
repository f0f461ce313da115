"""One rule per field for the web forms and the API (investigations/validators.py): the same bad
input is refused through both, with the same message."""
import html
from decimal import Decimal

import pytest
from sqlalchemy import select

from investigations import validators as rules
from investigations.api.tokens import create_token
from investigations.extensions import db
from investigations.models import Business, Case
from tests.conftest import case_form, file_case
from tests.test_api import Api, assert_problem, new_case


@pytest.fixture
def api(app, users):
    """api("rita") -> an API client with a fresh token of Rita's."""

    def make(who):
        _, secret = create_token(users[who], f"{who}'s test token")
        db.session.commit()
        return Api(app, secret)

    return make


@pytest.mark.parametrize("value", [
    "https://example.com", "http://acme.example/shop?x=1#top", "HTTPS://Example.COM:8443/a", "https://[2001:db8::1]/",
    "http://192.0.2.7", "https://xn--bcher-kva.example",
])
def test_web_addresses_that_are_accepted(value):
    assert rules.website_url(f"  {value} ") == value


@pytest.mark.parametrize("value", [
    "javascript:alert(1)", "JavaScript://example.com/%0aalert(1)", "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd", "ftp://example.com", "//example.com", "example.com", "https://", "https:///path",
    "https://exa mple.com", "https://example.com/\nx", "https://user:pw@example.com", "https://example.com:port",
    "https://<script>.com", "https://example.com\\@evil.example", "https://" + "a" * 500 + ".com",
])
def test_web_addresses_that_are_refused(value):
    with pytest.raises(rules.Invalid):
        rules.website_url(value)


@pytest.mark.parametrize("value, message", [
    (Decimal("NaN"), "Enter an amount such as 120.50."), (Decimal("Infinity"), "Enter an amount such as 120.50."),
    (Decimal("-1"), "Enter an amount of zero or more."), (Decimal("100000000001"), "Enter at most 100,000,000,000."),
])
def test_amounts(value, message):
    with pytest.raises(rules.Invalid, match=f"^{message}$"):
        rules.amount(value)
    assert rules.amount(Decimal("120.50")) == Decimal("120.50")


def test_tags_e_mails_and_phones():
    assert rules.tag_text("refund, washer,, ") == "refund, washer,, "
    with pytest.raises(rules.Invalid, match="at most 60 characters"):
        rules.tag_text("x" * 61)
    with pytest.raises(rules.Invalid, match="at most 50 tags"):
        rules.tag_names([f"t{i}" for i in range(51)])
    with pytest.raises(rules.Invalid, match="comma"):
        rules.tag_names(["a,b"])
    assert rules.email_address(" carla@example.net ") == "carla@example.net"
    for bad in ("not an e-mail", "carla@", "carla@localhost", "a" * 250 + "@example.net"):
        with pytest.raises(rules.Invalid):
            rules.email_address(bad)
    assert rules.phone_number("+1 (555) 010-0100 x12") == "+1 (555) 010-0100 x12"
    for bad in ("call me", "()", "1" * 51):
        with pytest.raises(rules.Invalid):
            rules.phone_number(bad)


# --- The same message through the form and the API -------------------------------------------


def form_page(client, path, data) -> str:
    response = client.post(path, data=data)
    assert response.status_code == 200, (response.status_code, response.headers.get("Location"))  # shown again
    return html.unescape(response.get_data(as_text=True))


def business_slug(name="Acme Appliances Inc.") -> str:
    return db.session.scalar(select(Business.slug).where(Business.name == name))


@pytest.mark.parametrize("website", [
    "javascript:alert(document.cookie)", "javascript://example.com/%0aalert(1)", "data:text/html,hi",
    "ftp://example.com/file", "https://user@example.com",
])
def test_a_website_the_form_refuses_the_api_refuses_with_the_same_message(login, api, website):
    eve = login("eve")
    file_case(eve)
    slug = business_slug()
    page = form_page(eve, f"/businesses/{slug}/edit", {"name": "Acme Appliances Inc.", "website": website})
    assert rules.WEBSITE_MESSAGE in page
    problem = assert_problem(api("eve").patch(f"/businesses/{slug}", json={"website": website}), 422)
    assert problem["errors"]["website"] == [rules.WEBSITE_MESSAGE]
    assert db.session.scalar(select(Business.website).where(Business.slug == slug)) is None


def test_a_good_website_is_stored_through_both(login, api):
    eve = login("eve")
    file_case(eve)
    slug = business_slug()
    response = eve.post(f"/businesses/{slug}/edit", data={"name": "Acme Appliances Inc.",
                                                          "website": "https://acme.example"})
    assert response.status_code == 302
    changed = api("eve").patch(f"/businesses/{slug}", json={"website": "http://acme.example/shop"})
    assert changed.status_code == 200 and changed.json["website"] == "http://acme.example/shop"


@pytest.mark.parametrize("field, form_value, api_value, message", [
    ("complainant_email", "carla@localhost", "carla@localhost", rules.EMAIL_MESSAGE),
    ("complainant_email", "not an e-mail", "not an e-mail", rules.EMAIL_MESSAGE),
    ("complainant_phone", "call me", "call me", "Use digits, spaces and + ( ) - only."),
    ("amount_in_dispute", "-5", "-5", "Enter an amount of zero or more."),
    ("amount_in_dispute", "NaN", "NaN", "Enter an amount such as 120.50."),
    ("amount_in_dispute", "100000000001", "100000000001", "Enter at most 100,000,000,000."),
    ("tags", "refund, " + "x" * 61, ["refund", "x" * 61], "A tag has at most 60 characters."),
    ("tags", ", ".join(f"t{i}" for i in range(51)), [f"t{i}" for i in range(51)], "Enter at most 50 tags."),
    ("incident_date", "1969-12-31", "1969-12-31", "This date is before 1970: check the year."),
    ("business_name", "!!!", "!!!", "Enter the business’s name in letters or digits."),
])
def test_a_case_field_the_form_refuses_the_api_refuses_with_the_same_message(login, api, field, form_value,
                                                                             api_value, message):
    rita = login("rita")
    page = form_page(rita, "/cases/new", case_form(**{field: form_value}))
    assert message in page
    problem = assert_problem(api("rita").post("/cases", json=new_case(**{field: api_value})), 422)
    assert problem["errors"][field] == [message]
    assert db.session.scalar(select(Case.id)) is None


# --- A merged case's address in the API --------------------------------------------------------


def test_the_api_redirect_of_a_merged_case_keeps_the_query_as_data(app, login, api):
    eve = login("eve")
    keep, dup = file_case(eve, title="Keep"), file_case(eve, title="Duplicate")
    eve.post(f"/cases/{dup}/merge", data={"survivor": keep})
    client = api("eve")
    for query, expected in [
        ("reference=x", "reference=x"),  # was a 500: url_for got `reference` twice
        ("endpoint=x", "endpoint=x"),
        ("_external=1&_scheme=javascript&_anchor=x", "_external=1&_scheme=javascript&_anchor=x"),
        ("include=complainant&include=x", "include=complainant&include=x"),
        ("", None),
    ]:
        response = client.get(f"/cases/{dup}" + (f"?{query}" if query else ""))
        assert response.status_code == 308, (query, response.get_data(as_text=True))
        location = response.headers["Location"]
        assert location.startswith(f"/api/v1/cases/{keep}"), location
        assert location == f"/api/v1/cases/{keep}" + (f"?{expected}" if expected else "")
    timeline = client.get(f"/cases/{dup}/timeline?reference=x&page=1")
    assert timeline.status_code == 308
    assert timeline.headers["Location"] == f"/api/v1/cases/{keep}/timeline?reference=x&page=1"
