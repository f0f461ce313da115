"""Search as editors type it: common words, lower-case and/or/not, the word that emptied a search,
references that open their case, several values of a facet, importers' placeholder text, and no
way to learn from search about cases one may not open."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from investigations.extensions import db
from investigations.models import Case, SavedSearch
from investigations.search.documents import COMPLAINANT_PLACEHOLDERS, without_placeholders
from tests.conftest import TEST_DATABASE_URL, file_case
from tests.test_api import api  # noqa: F401 (a fixture)

BACKENDS = ["postgres"] if TEST_DATABASE_URL else ["tantivy", "whoosh"]

INCORRECT = "Incorrect information on your report"
IMPROPER = "Improper use of your report"
NOT_OWED = "Attempts to collect debt not owed"
EQUIFAX, EXPERIAN, TRANSUNION = "Equifax, Inc.", "Experian Information Solutions Inc.", "TransUnion LLC"
MIDLAND, PRA, CAPITAL_ONE = "Midland Credit Management, Inc.", "Portfolio Recovery Associates, LLC", "Capital One"

# (key, who files it, title, business, category, narrative). No digits in the text: the tests
# search for case numbers.
COMPLAINTS = [
    ("not_mine", "rita", f"{INCORRECT} — Information belongs to someone else", EQUIFAX, "other",
     "There are three accounts on my credit report that are not mine. I have never opened an account with "
     "these lenders and I disputed them twice."),
    ("late", "rita", f"{INCORRECT} — Account status incorrect", EXPERIAN, "other",
     "My Experian report shows a late payment although I paid on time. The bank confirmed the payment."),
    ("address", "rita", f"{INCORRECT} — Personal information incorrect", TRANSUNION, "other",
     "TransUnion lists an old address in another state and a name that is not mine."),
    ("old", "rita", f"{INCORRECT} — Old information reappears or never goes away", TRANSUNION, "other",
     "A bankruptcy from more than ten years ago is still on my report and lenders keep seeing it."),
    ("dealer", "rita", f"{IMPROPER} — Reporting company used your report improperly", EQUIFAX, "other",
     "A hard inquiry appeared on my report from a car dealer I never visited. I did not authorize anyone "
     "to pull my credit."),
    ("inquiries", "rita", f"{IMPROPER} — Credit inquiries on your report that you don't recognize", EXPERIAN,
     "other", "Two inquiries I do not recognize from lenders in Texas."),
    ("investigation", "rita", "Problem with a credit reporting company's investigation into an existing problem",
     EXPERIAN, "other", "I sent a dispute with copies of my bank statements. After a month the investigation was "
     "closed and the error is still there."),
    ("verified", "rita", "Problem with a company's investigation into an existing problem", EQUIFAX, "other",
     "Equifax said the disputed collection account was verified but never explained how."),
    ("medical", "rita", f"{NOT_OWED} — Debt is not yours", MIDLAND, "debt_collection",
     "A collection agency keeps calling about a medical bill that is not mine or my husband's. I asked them to "
     "validate the debt and they never did. I want it removed from my credit report."),
    ("letter", "rita", "Written notification about debt — Didn't receive enough information to verify debt", PRA,
     "debt_collection", "The collector sent a letter demanding payment for an old credit card but gave no "
     "account details."),
    ("calls", "rita", "Communication tactics — Frequent or repeated calls", MIDLAND, "debt_collection",
     "They call my work phone five times a day even after I told them to stop."),
    ("hotel", "rita", "Problem with a purchase shown on your statement", CAPITAL_ONE, "billing",
     "I was charged twice for a hotel booking. The card company refused to reverse the duplicate charge."),
    ("imported", "rita", f"{INCORRECT} — Information belongs to someone else", EQUIFAX, "other",
     "No narrative was published with this complaint. Product: Credit reporting; Issue: Incorrect information "
     "on your report."),
    # Rob's: Rita may not open these.
    ("cousin", "rob", f"{INCORRECT} — Information belongs to someone else", EQUIFAX, "other",
     "The account belongs to my cousin Zebediah Fairweather, a source who asked not to be named."),
    ("sued", "rob", f"{NOT_OWED} — Debt was paid", MIDLAND, "debt_collection",
     "The collector threatened to sue over a debt that was paid in full."),
]


@pytest.fixture(autouse=True, params=BACKENDS)
def search_backend(request, app):
    app.config["SEARCH_BACKEND"] = request.param
    app.extensions.pop("search_backend", None)
    return request.param


@pytest.fixture
def cfpb(login):
    """key -> reference of each complaint above."""
    clients = {"rita": login("rita"), "rob": login("rob")}
    refs = {}
    for key, who, title, business, category, narrative in COMPLAINTS:
        refs[key] = file_case(
            clients[who], title=title, business_name=business, category=category, narrative=narrative,
            desired_resolution="", tags="cfpb", amount_in_dispute="", date_received="2025-06-02",
            complainant_name="Unknown complainant" if key == "imported" else f"Consumer {key.title()}",
            complainant_email="", complainant_phone="", complainant_address="")
    return refs


def search(client, **params):
    response = client.get("/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def found(page: str) -> set[str]:
    return set(re.findall(r'href="/cases/(C-\d{4}-\d{5})[?"]', page))


def count_line(page: str) -> int:
    return int(re.search(r"(\d+) cases? in \d+ ms", page).group(1))


def refs(cfpb, *keys) -> set[str]:
    return {cfpb[key] for key in keys}


def as_seen(page: str, *typed: str) -> str:
    """The page without what differs between any two searches: the words typed and the time taken."""
    for word in typed:
        page = re.sub(re.escape(word), "TYPED", page, flags=re.IGNORECASE)
    page = re.sub(r"in \d+ ms", "in N ms", page)
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*" name="csrf_token"', "csrf", page)


INCORRECT_KEYS = ("not_mine", "late", "address", "old", "imported")


def test_the_cfpb_issue_title_finds_its_complaints(cfpb, login):
    eve, rita = login("eve"), login("rita")
    everything = found(search(eve, q="incorrect information on your report"))
    assert everything >= refs(cfpb, *INCORRECT_KEYS, "cousin")
    assert everything == found(search(eve, q="incorrect information report"))
    assert found(search(rita, q="incorrect information on your report")) >= refs(cfpb, *INCORRECT_KEYS)
    assert cfpb["cousin"] not in found(search(rita, q="incorrect information on your report"))
    assert found(search(eve, q="Improper use of your report")) == refs(cfpb, "dealer", "inquiries")


def test_common_words_never_empty_a_search(cfpb, login):
    eve = login("eve")
    assert cfpb["not_mine"] in found(search(eve, q="credit report not mine"))
    assert cfpb["medical"] in found(search(eve, q="the debt is not mine"))
    page = search(eve, q="the")
    assert count_line(page) > 0
    report = found(search(eve, q="report"))
    assert report and found(search(eve, q="the report")) <= report
    assert found(search(eve, q="the report")) and found(search(eve, q="report of the")) == found(search(eve, q="the report"))


def test_lower_case_and_or_not_are_words_and_capitals_are_operators(cfpb, login):
    eve = login("eve")
    debt, report = found(search(eve, q="debt")), found(search(eve, q="report"))
    assert cfpb["medical"] in found(search(eve, q="debt or report"))
    assert found(search(eve, q="debt or report")) <= debt & report  # all the words, not either
    assert found(search(eve, q="debt OR report")) == debt | report
    assert cfpb["medical"] in found(search(eve, q="debt and report"))
    assert found(search(eve, q="debt and report")) <= debt & report
    assert found(search(eve, q="debt NOT report")) == debt - report
    assert cfpb["medical"] in found(search(eve, q="debt not mine"))  # "not" is not an operator here


def test_the_word_that_emptied_a_search_is_named_with_a_search_without_it(cfpb, login):
    rita = login("rita")
    page = search(rita, q="inquiries zanzibar")
    assert found(page) == set()
    notice = re.search(r'<div[^>]*id="emptied-by"[^>]*>(.*?)</div>', page, re.S)
    assert notice and "zanzibar" in notice.group(1)
    link = re.search(r'href="([^"]+)"', notice.group(1)).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query)["q"] == ["inquiries"]
    assert found(search(rita, **{k: v[0] for k, v in parse_qs(urlsplit(link).query).items()})) == \
        refs(cfpb, "inquiries", "dealer")
    # A search that finds something has no such notice.
    assert 'id="emptied-by"' not in search(rita, q="inquiries")


def test_a_reference_or_its_number_opens_the_case(cfpb, login):
    rita, eve = login("rita"), login("eve")
    reference = cfpb["dealer"]
    for typed in (reference, reference.lower(), str(int(reference[-5:])), reference[-5:]):
        response = rita.get("/search", query_string={"q": typed})
        assert response.status_code == 302, typed
        assert response.headers["Location"].endswith(f"/cases/{reference}")
    hidden = cfpb["cousin"]
    assert eve.get("/search", query_string={"q": str(int(hidden[-5:]))}).headers["Location"].endswith(hidden)


def test_a_hidden_cases_reference_or_number_searches_like_one_that_does_not_exist(cfpb, login):
    rita = login("rita")
    hidden = cfpb["cousin"]
    for typed, nowhere in ((str(int(hidden[-5:])), "98765"), (hidden, hidden[:-5] + "98765")):
        page, other = search(rita, q=typed), search(rita, q=nowhere)
        assert found(page) == set()
        assert as_seen(page, typed) == as_seen(other, nowhere)


def test_a_facet_takes_several_values_any_of_them_and_each_facet_narrows(cfpb, login):
    eve = login("eve")
    business = {key: str(db.session.scalar(select(Case.business_id).where(Case.reference == cfpb[key])))
                for key in ("not_mine", "late", "address")}
    equifax_or_experian = eve.get("/search", query_string=[("q", "report"), ("business_id", business["not_mine"]),
                                                           ("business_id", business["late"])])
    page = equifax_or_experian.get_data(as_text=True)
    assert found(page) == found(search(eve, q="report business:equifax")) | found(search(eve, q="report business:experian"))
    assert cfpb["not_mine"] in found(page) and cfpb["late"] in found(page) and cfpb["address"] not in found(page)
    # TransUnion is still on offer, as a third value added to the two.
    links = [link.replace("&amp;", "&") for link in re.findall(r'<a href="(/search\?[^"]+)"', page)]
    three = [link for link in links if sorted(parse_qs(urlsplit(link).query).get("business_id", [])) ==
             sorted(business.values())]
    assert three
    assert cfpb["address"] in found(eve.get(three[0]).get_data(as_text=True))
    # Across facets: AND.
    narrowed = eve.get("/search", query_string=[("q", "report"), ("business_id", business["not_mine"]),
                                                ("business_id", business["late"]), ("category", "debt_collection")])
    assert found(narrowed.get_data(as_text=True)) == set()


def test_a_saved_search_keeps_every_value_of_a_facet(cfpb, login, users):
    eve = login("eve")
    ids = [str(db.session.scalar(select(Case.business_id).where(Case.reference == cfpb[key])))
           for key in ("not_mine", "late")]
    response = eve.post("/search/saved", data=MultiDict([("q", "report"), ("business_id", ids[0]),
                                                         ("business_id", ids[1]), ("name", "Two bureaus")]))
    assert response.status_code == 302
    saved = db.session.scalar(select(SavedSearch).where(SavedSearch.user_id == users["eve"].id))
    assert sorted(parse_qs(saved.query_string)["business_id"]) == sorted(ids)
    opened = eve.get(f"/search/saved/{saved.id}")
    page = eve.get(opened.headers["Location"]).get_data(as_text=True)
    assert {cfpb["not_mine"], cfpb["late"]} <= found(page) and cfpb["address"] not in found(page)
    assert "Two bureaus" in eve.get("/search/saved").get_data(as_text=True)


def test_importers_placeholder_text_is_not_searched(cfpb, login):
    eve = login("eve")
    for words in ("narrative published", "published", "unknown complainant", "complainant"):
        assert cfpb["imported"] not in found(search(eve, q=words)), words
    assert cfpb["imported"] in found(search(eve, q="credit reporting"))  # the product named is kept
    assert without_placeholders(
        "Company response to consumer: Closed with explanation\nCompany public response: Company has responded "
        "to the consumer and the CFPB and chooses not to provide a public response\nTimely response: Yes\n"
        "Consumer disputed: N/A") == "Closed with explanation"
    assert without_placeholders("CFPB complainant 4242", COMPLAINANT_PLACEHOLDERS) == "4242"


def test_a_word_only_in_another_reporters_case_looks_like_a_word_that_exists_nowhere(cfpb, login):
    rita, eve = login("rita"), login("eve")
    for hidden, nowhere in (("Fairweather", "Fairwenther"), ("Zebediah", "Zebedoah"),
                            ("Fairweather report", "Fairwenther report"), ("sue debt", "sux debt")):
        assert as_seen(search(rita, q=hidden), *hidden.split()) == as_seen(search(rita, q=nowhere), *nowhere.split())
    assert "fairweather" not in search(rita, q="Fairwenther").lower()
    # Whoever may open the case is offered the word.
    assert "Did you mean" in search(eve, q="Fairwenther") and cfpb["cousin"] in found(search(eve, q="Fairwenther"))
    # Suggestions still come from the reporter's own cases.
    page = search(rita, q="inquries")
    assert "Did you mean" in page and "inquiries" in page and cfpb["inquiries"] in found(page)


def test_the_api_gives_rank_order_not_raw_scores(cfpb, api, login):  # noqa: F811
    def scores(who):
        body = api(who).get("/search", query_string={"q": "report"}).json
        return [hit["reference"] for hit in body["hits"]], [hit["score"] for hit in body["hits"]]

    order, given = scores("rita")
    n = len(given)
    assert n > 2 and given == [round((n - rank) / n, 4) for rank in range(n)]
    # Cases Rita may not open change no number she sees (a raw score would move with them).
    file_case(login("rob"), title="Report report report", narrative="Report, report and report again.",
              business_name=EQUIFAX)
    assert scores("rita") == (order, given)
