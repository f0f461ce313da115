"""What a PostgreSQL search asks of search_terms: the request's filters, the user's visibility and
the words typed (field prefixes taken out as filters, the rest read by websearch_to_tsquery) as one
WHERE clause, with a phrase's adjacent words looked up in tsv_pairs first (see PAIRS in
postgres_backend.py), and the lexemes of a tsquery read from its text."""
import re
from datetime import datetime

from sqlalchemy import Text, and_, cast, func, literal, literal_column, or_, text
from sqlalchemy.dialects.postgresql import TSQUERY

from ..extensions import db
from ..models.search import SearchTerms
from ..permissions import case_visibility
from .query import SearchRequest

FIELD_PREFIX = re.compile(r'(?<!\S)(business|status|category|source_id|source|tag|tags|ref|reference):("[^"]*"|\S+)',
                          re.IGNORECASE)
PAIR_MASK = 65535
TSQUERY_TEXTS = text("SELECT websearch_to_tsquery('english', :words)::text, websearch_to_tsquery('simple', :words)::text")
TSQUERY_TOKEN = re.compile(r"'((?:[^']|'')*)'(:[\w*]+)?|<->|<\d+>|&|\||!|\(|\)|\S")


def split_query(text_query: str) -> tuple[str, dict[str, str], list[str]]:
    """Field prefixes become filters; words ending in * become prefix searches."""
    fields = {}

    def take(match):
        name = {"tags": "tag", "reference": "ref"}.get(match.group(1).lower(), match.group(1).lower())
        fields[name] = match.group(2).strip('"')
        return " "
    rest = FIELD_PREFIX.sub(take, text_query)
    prefixes = [w[:-1] for w in re.findall(r"\b\w+\*", rest) if len(w) > 2]
    rest = re.sub(r"\b\w+\*", " ", rest)
    rest = re.sub(r"\bNOT\s+", "-", rest)
    rest = re.sub(r"\bAND\b", " ", rest).replace("~", " ")
    return rest.strip(), fields, prefixes


class SearchConditions:
    """Builds a search's WHERE clause on search_terms; keeps websearch_to_tsquery's readings of the
    words it has seen lately, which the phrase lookup and the ranking's candidates read."""

    def __init__(self):
        self._tsquery_texts: dict[str, tuple[str, str]] = {}  # words -> their english and simple tsqueries

    def of(self, request: SearchRequest, user, text_query: str):
        """The condition every match meets, and the english tsquery of the words (None without words)."""
        words, fields, prefixes = split_query(text_query)
        doc = SearchTerms
        conditions = []
        if (visible := visible_documents(user)) is not None:
            conditions.append(visible)
        for name, values in request.filters.items():
            conditions.append(getattr(doc, name).in_(values))  # any of the chosen values
        if request.date_from:
            conditions.append(doc.received >= datetime.combine(request.date_from, datetime.min.time()))
        if request.date_to:
            conditions.append(doc.received <= datetime.combine(request.date_to, datetime.max.time()))
        if request.created_after:
            conditions.append(doc.created > request.created_after)
        if "business" in fields:
            conditions.append(doc.business.op("@@")(func.plainto_tsquery("english", fields["business"])))
        for name in ("status", "category", "source"):
            if name in fields:
                conditions.append(getattr(doc, name) == fields[name].lower())
        if "tag" in fields:
            conditions.append(func.concat(",", doc.tag, ",").contains(f",{fields['tag'].lower()},"))
        if "source_id" in fields:
            conditions.append(doc.source_id == fields["source_id"].lower())
        if "ref" in fields:
            conditions.append(func.lower(doc.reference) == fields["ref"].lower())
        query = None
        if words and re.search(r"\w", words):
            query = func.websearch_to_tsquery("english", words)  # stemmed: "refunds" finds "refund"
            simple = func.websearch_to_tsquery("simple", words)  # names, references, complainants as typed
            conditions.append(or_(doc.tsv.op("@@")(query), doc.tsv.op("@@")(simple)))
            if '"' in words:
                conditions += self._pair_conditions(words)
        for prefix in prefixes:
            word = re.sub(r"\W", "", prefix)
            conditions.append(doc.tsv.op("@@")(func.to_tsquery("simple", f"{word}:*")))
        return and_(*conditions) if conditions else literal_column("true"), query

    def _pair_conditions(self, words: str) -> list:
        """For a query with phrases: a condition on tsv_pairs that every document it matches meets
        (each two words the phrases put side by side are a pair of the document), looked up in the
        GIN index so that only documents with those pairs have their positions checked; none when
        the query is not a plain AND of words and phrases."""
        readings = {phrase_pairs(tsquery) for tsquery in self.tsquery_texts_of(words)}
        if None in readings:
            return []  # one of the two readings has no pair every match must have
        column = SearchTerms.tsv_pairs
        return [or_(*[column.op("@@")(cast(func.concat_ws(" & ", *[
            cast(func.hashtext(literal(pair, Text)).op("&")(PAIR_MASK), Text) for pair in pairs]), TSQUERY))
            for pairs in sorted(readings)])]

    def tsquery_texts_of(self, words: str) -> tuple[str, str]:
        """websearch_to_tsquery's english and simple readings of `words`, as text (kept for a while)."""
        texts = self._tsquery_texts.get(words)
        if texts is None:
            texts = tuple(db.session.execute(TSQUERY_TEXTS, {"words": words}).one())
            if len(self._tsquery_texts) > 1000:
                self._tsquery_texts.clear()
            self._tsquery_texts[words] = texts
        return texts


def visible_documents(user):
    """The condition on search_terms for the cases `user` may see; None for every case."""
    visibility = case_visibility(user)
    if visibility.every_case:
        return None
    return or_(*(getattr(SearchTerms, field) == str(visibility.person_id) for field in visibility.OWN_CASE_FIELDS))


def quoted_lexemes(tsquery: str) -> list[str] | None:
    """The lexemes of `tsquery` (as text), each quoted as in a tsquery; None when one has a prefix or
    weight, or a backslash, and so cannot be listed."""
    lexemes = []
    for match in TSQUERY_TOKEN.finditer(tsquery):
        if match.group(1) is not None:
            if match.group(2) or "\\" in match.group(1):
                return None
            lexemes.append(f"'{match.group(1)}'")
    return lexemes


def phrase_pairs(tsquery: str) -> tuple[str, ...] | None:
    """The pairs of lexemes ("first second") that `tsquery` (as text) joins by <->: every document it
    matches has each of them side by side. None when it has none, or is anything but words and
    phrases ANDed (an OR, a NOT, a prefix or weight, brackets)."""
    tokens = [(match.group(0), match.group(1), match.group(2)) for match in TSQUERY_TOKEN.finditer(tsquery)]
    if any(token in ("|", "!", "(", ")") or (lexeme is None and not (token == "&" or token.startswith("<")))
           or suffix or (lexeme is not None and "\\" in lexeme) for token, lexeme, suffix in tokens):
        return None
    pairs = []
    for (_, first, _), (operator, _, _), (_, second, _) in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if first is not None and operator == "<->" and second is not None:
            pairs.append(f"{first} {second}".replace("''", "'"))
    return tuple(dict.fromkeys(pairs)) or None
