"""The tantivy index's schema and analyzers, and the tantivy document a case's search document becomes."""
from datetime import UTC, date, datetime, timedelta

import tantivy
from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

from .query import FACETS

STEMMED_FIELDS = ("title", "narrative", "notes", "evidence", "business")  # tokenizer en_stem
TEXT_VALUES = ("reference", "source_id", *STEMMED_FIELDS, "complainant", *FACETS)  # a document's text values, as they are


def make_schema() -> tantivy.Schema:
    """Nothing of a case's text is stored: a page's hits read their titles and the text of their
    snippets from the database (only 20 cases a page), so the index holds no second copy of every
    complaint, and a worker's memory holds none of it. What a search reads per hit is the `id`
    column; the only stored value is the digest that `flask search check` compares."""
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", indexed=True, fast=True)
    builder.add_text_field("reference", tokenizer_name="raw", index_option="basic")  # one term: c-2026-00042
    builder.add_text_field("source_id", tokenizer_name="raw", index_option="basic")  # the CFPB's 4201337, lowercased
    for name in STEMMED_FIELDS:
        builder.add_text_field(name, tokenizer_name="en_stem")
    builder.add_text_field("complainant", tokenizer_name="default")  # searchable, never stored or shown
    # Each distinct word as typed (lowercased), for "Did you mean": stemmed terms are not words.
    builder.add_text_field("spell", tokenizer_name="default", index_option="basic")
    builder.add_text_field("tag", tokenizer_name="raw", index_option="basic")  # one term per tag, lowercased
    for name in FACETS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    builder.add_integer_field("received", indexed=True, fast=True)  # date received, as a day number
    builder.add_integer_field("created", indexed=True)  # filed at, in µs since 1970 (UTC)
    builder.add_integer_field("created_by", indexed=True)
    builder.add_integer_field("assigned_to", indexed=True)
    builder.add_bytes_field("digest", stored=True)  # not searched (a text field would be: a term per case)
    return builder.build()


SCHEMA = make_schema()
LAYOUT = 3  # raise it whenever the schema changes (3: source, source_id and the CFPB's fields)


def _analyzer(*filters) -> tantivy.TextAnalyzer:
    builder = TextAnalyzerBuilder(Tokenizer.simple())
    for one in filters:
        builder = builder.filter(one)
    return builder.build()


# The query side of tantivy's built-in tokenizers: "en_stem" and "default" (tested against the index).
ANALYZERS = {
    "en_stem": _analyzer(Filter.remove_long(40), Filter.lowercase(), Filter.stemmer("english")),
    "default": _analyzer(Filter.remove_long(40), Filter.lowercase()),
}
FIELD_ANALYZER = {**dict.fromkeys(STEMMED_FIELDS, "en_stem"), "complainant": "default"}  # others: raw


def day_number(value: date) -> int:
    """A date as the integer the `received` field holds."""
    return value.toordinal()


def epoch_micros(moment: datetime) -> int:
    """A moment as the integer the `created` field holds: µs since 1970, UTC (naive means UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def tantivy_document(doc: dict) -> tantivy.Document:
    """The tantivy document for a case's search document (documents.py)."""
    fields = {name: [doc[name]] for name in TEXT_VALUES if doc.get(name)}
    texts = [doc[name] for name in STEMMED_FIELDS if doc.get(name)]
    if texts:
        fields["spell"] = texts
    tags = {tag.strip().lower() for tag in doc.get("tag", "").split(",")} - {""}
    if tags:
        fields["tag"] = list(tags)
    fields["id"] = [int(doc["id"])]
    fields["received"] = [day_number(date.fromisoformat(doc["received"][:10]))]
    fields["created"] = [epoch_micros(datetime.fromisoformat(doc["created"]))]
    fields["created_by"] = [int(doc["created_by"])]
    if doc.get("assigned_to"):
        fields["assigned_to"] = [int(doc["assigned_to"])]
    if doc.get("digest"):
        fields["digest"] = [doc["digest"].encode()]
    return tantivy.Document.from_dict(fields, SCHEMA)  # one call: half the cost of add_text() per field
