"""The web pages and the JSON API say the same thing, because they call the same functions.

Business list and business page against /api/v1/businesses, with a merged business and a merged
case present (neither is listed or counted, and each count agrees with its case list); the same
bad input gets the same messages through a web form and through the API.
"""
import re

import pytest
from werkzeug.datastructures import MultiDict

from investigations.api.tokens import create_token
from investigations.businesses.forms import BusinessForm
from investigations.businesses.services import find_business
from investigations.cases.forms import CaseForm
from investigations.extensions import db
from investigations.validators import WEBSITE_MESSAGE
from tests.conftest import case_form, file_case
from tests.test_api import Api, new_case


def web_business_list(client, q: str = "") -> dict[str, int]:
    """{name: case count} as the web's business list shows them."""
    page = client.get("/businesses/", query_string={"q": q} if q else None).get_data(as_text=True)
    rows = re.findall(r'<td><a href="/businesses/[^"]+">([^<]+)</a></td>.*?<td class="num">(\d+)</td>', page, re.S)
    return {name: int(count) for name, count in rows}


def web_business_page(client, slug: str) -> tuple[int, set[str]]:
    """(the case count in the heading, the references in the case table) of a business's page."""
    response = client.get(f"/businesses/{slug}")
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    count = int(re.search(r"<h2>(\d+) cases?</h2>", page).group(1))
    return count, set(re.findall(r'<td><a href="/cases/(C-\d{4}-\d{5})">', page))


def api_business_list(api: Api, q: str = "") -> dict[str, int]:
    response = api.get("/businesses", query_string={"q": q, "per_page": 100} if q else {"per_page": 100})
    assert response.status_code == 200
    assert response.json["total"] == len(response.json["items"])
    return {item["name"]: item["case_count"] for item in response.json["items"]}


def api_business_page(api: Api, slug: str) -> tuple[int, set[str]]:
    response = api.get(f"/businesses/{slug}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["counts"]["total"] == body["case_count"] == len(body["cases"])
    assert sum(body["counts"]["status"].values()) == sum(body["counts"]["category"].values()) == body["case_count"]
    return body["case_count"], {case["reference"] for case in body["cases"]}


@pytest.fixture
def merged_records(login, users):
    """Acme Corp with Eve's two cases (one merged into the other) and Rob's; a duplicate business
    record (with a case of Rob's) merged into Acme Corp; Globex with a case of Rita's."""
    eve, rob, rita = login("eve"), login("rob"), login("rita")
    keep = file_case(eve, business_name="Acme Corp", title="Washer leaked, refund refused")
    dup = file_case(eve, business_name="Acme Corp", title="Leaking washer, a duplicate report")
    robs = file_case(rob, business_name="Acme Corp", title="Rob's dryer story")
    moved = file_case(rob, business_name="Acme Duplicate Record", title="Rob's case against the duplicate")
    ritas = file_case(rita, business_name="Globex", title="Rita's Globex case")
    assert eve.post(f"/cases/{dup}/merge", data={"survivor": keep}).status_code == 302
    duplicate_slug = find_business("Acme Duplicate Record").slug
    assert eve.post(f"/businesses/{duplicate_slug}/merge", data={"survivor": "Acme Corp"}).status_code == 302
    return {"keep": keep, "dup": dup, "robs": robs, "moved": moved, "ritas": ritas,
            "acme": find_business("Acme Corp").slug, "duplicate": duplicate_slug,
            "globex": find_business("Globex").slug}


def token_client(app, users, who) -> Api:
    _, secret = create_token(users[who], f"{who}'s agreement token")
    db.session.commit()
    return Api(app, secret)


@pytest.mark.parametrize("who", ["eve", "rob", "rita"])
def test_the_business_list_and_pages_agree_with_merged_records_present(app, login, users, merged_records, who):
    web, api = login(who), token_client(app, users, who)
    for q in ("", "acme", "duplicate record", "globex"):
        assert web_business_list(web, q) == api_business_list(api, q), q
    listed = api_business_list(api)
    assert "Acme Duplicate Record" not in listed  # merged away: not listed, through either
    for slug in (merged_records["acme"], merged_records["globex"]):
        assert web_business_page(web, slug) == api_business_page(api, slug), slug
        assert listed[api.get(f"/businesses/{slug}").json["name"]] == api_business_page(api, slug)[0]


def test_what_each_role_sees_of_the_merged_records(app, users, merged_records):
    m = merged_records
    eve, rob, rita = (token_client(app, users, who) for who in ("eve", "rob", "rita"))
    # The merged-away case is neither listed nor counted; the moved case is counted at the survivor.
    assert api_business_page(eve, m["acme"]) == (3, {m["keep"], m["robs"], m["moved"]})
    assert api_business_page(rob, m["acme"]) == (2, {m["robs"], m["moved"]})
    assert api_business_page(rita, m["acme"]) == (0, set())
    assert api_business_list(eve) == {"Acme Corp": 3, "Globex": 1}
    assert api_business_list(rita) == {"Acme Corp": 0, "Globex": 1}


def test_a_merged_business_address_leads_to_the_survivor_through_both(app, login, users, merged_records):
    m = merged_records
    web = login("eve").get(f"/businesses/{m['duplicate']}")
    assert web.status_code == 302 and web.headers["Location"].endswith(f"/businesses/{m['acme']}")
    api = token_client(app, users, "eve")
    response = api.get(f"/businesses/{m['duplicate']}")
    assert response.status_code == 308 and response.headers["Location"].endswith(f"/api/v1/businesses/{m['acme']}")
    refused = api.patch(f"/businesses/{m['duplicate']}", json={"city": "Springfield"})
    assert refused.status_code == 409 and "Acme Corp" in refused.json["detail"]
    assert login("eve").post(f"/businesses/{m['duplicate']}/edit", data={"name": "X"}).status_code == 409


# --- The same messages for the same bad input ----------------------------------------------------


def form_errors(app, form_class, data: dict) -> dict[str, list[str]]:
    with app.test_request_context(method="POST", data=MultiDict(data)):
        form = form_class()
        form.validate()
        return {name: list(messages) for name, messages in form.errors.items()}


BAD_BUSINESS_INPUT = [
    ("website", "javascript:alert(1)"),
    ("website", "https://" + "a" * 600 + ".example"),
    ("website", "http://exa mple.com"),
    ("name", "!!!"),
]


@pytest.mark.parametrize("field,value", BAD_BUSINESS_INPUT)
def test_a_bad_business_field_gets_the_same_message_through_the_form_and_the_api(app, login, users, field, value):
    file_case(login("eve"), business_name="Acme Corp")
    slug = find_business("Acme Corp").slug
    web = form_errors(app, BusinessForm, {"name": "Acme Corp", field: value})
    api = token_client(app, users, "eve").patch(f"/businesses/{slug}", json={field: value})
    assert api.status_code == 422, api.get_data(as_text=True)
    assert web[field] == api.json["errors"][field]
    assert login("eve").post(f"/businesses/{slug}/edit", data={"name": "Acme Corp", field: value}).status_code == 200
    assert find_business("Acme Corp").website is None  # refused through both


def test_the_website_rule_is_the_shared_one(app):
    assert form_errors(app, BusinessForm, {"name": "Acme", "website": "ftp://example.com"})["website"] == [
        WEBSITE_MESSAGE]


def test_too_many_aliases_get_the_same_message(app, login, users):
    file_case(login("eve"), business_name="Acme Corp")
    names = [f"Acme {n}" for n in range(101)]
    web = form_errors(app, BusinessForm, {"name": "Acme Corp", "aliases": "\n".join(names)})
    api = token_client(app, users, "eve").patch(f"/businesses/{find_business('Acme Corp').slug}",
                                                json={"aliases": names})
    assert web["aliases"] == api.json["errors"]["aliases"]


BAD_CASE_INPUT = [
    ("complainant_email", "not an e-mail", "not an e-mail"),
    ("complainant_phone", "call me", "call me"),
    ("amount_in_dispute", "-5", "-5"),
    ("amount_in_dispute", "1000000000000", "1000000000000"),
    ("date_received", "2999-01-01", "2999-01-01"),
    ("date_received", "1800-01-01", "1800-01-01"),
    ("business_name", "!!!", "!!!"),
    ("tags", "refund, " + "x" * 61, ["refund", "x" * 61]),
    ("tags", ", ".join(f"t{n}" for n in range(51)), [f"t{n}" for n in range(51)]),
]


@pytest.mark.parametrize("field,form_value,api_value", BAD_CASE_INPUT)
def test_a_bad_case_field_gets_the_same_message_through_the_form_and_the_api(app, users, field, form_value,
                                                                             api_value):
    web = form_errors(app, CaseForm, case_form(**{field: form_value}))
    response = token_client(app, users, "rita").post("/cases", json=new_case(**{field: api_value}))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.json["errors"]) == [field] and list(web) == [field]
    assert web[field] == response.json["errors"][field]


# --- The same status moves -----------------------------------------------------------------------


def web_moves(client, reference: str) -> set[str]:
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    return set(re.findall(r'<input type="hidden" name="status" value="([a-z_]+)">', page))


@pytest.mark.parametrize("status", ["new", "investigating", "published", "closed"])
def test_the_case_page_offers_the_moves_the_api_lists(app, login, users, status):
    """Both come from permissions.allowed_moves: the workflow's moves that are the user's to make."""
    eve = login("eve")
    reference = file_case(login("rob"), title="Moves")
    path = {"new": [], "investigating": ["investigating"], "published": ["investigating", "published"],
            "closed": ["closed"]}[status]
    for target in path:
        assert eve.post(f"/cases/{reference}/status", data={"status": target, "comment": "Moving on."}).status_code == 302
    for who in ("rob", "eve"):
        listed = set(token_client(app, users, who).get(f"/cases/{reference}").json["allowed_moves"])
        assert web_moves(login(who), reference) == listed, (status, who)
