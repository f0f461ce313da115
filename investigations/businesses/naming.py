"""Business names: the normalized form that makes "ACME Corp." and "Acme Corp" one business."""
import re
import unicodedata

# Legal-form words dropped from the end of a name ("Acme Co., Inc." is "acme").
LEGAL_SUFFIXES = {
    "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "llp", "lp", "ltd",
    "limited", "plc", "gmbh", "ag", "sa", "sas", "sarl", "srl", "bv", "nv", "pty", "pte",
    "oy", "ab", "as", "spa", "kg", "lc", "pc", "pllc",
}


# Letters that accent-stripping leaves alone but people spell without: "Łódź" is "Lodz".
_SPELLED_OUT = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i", "ß": "ss"})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED_OUT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_business_name(name: str) -> str:
    """Lower-case, accents and punctuation removed, "&" read as "and", legal suffixes dropped."""
    folded = _fold(name).replace("&", " and ")
    folded = re.sub(r"(?<=\b\w)\.(?=\w\b)", "", folded)  # "l.l.c" -> "llc"
    folded = re.sub(r"(?<=\w)'(?=\w)", "", folded)  # "joe's" -> "joes"
    words = re.findall(r"[^\W_]+", folded)  # letters and digits of any script
    while words and words[0] == "the" and len(words) > 1:
        words.pop(0)
    core = list(words)
    while len(core) > 1 and core[-1] in LEGAL_SUFFIXES:
        core.pop()
    return " ".join(core or words)[:200]  # the column's size; folding can lengthen a name


def slugify(name: str) -> str:
    slug = "-".join(re.findall(r"[^\W_]+", _fold(name)))
    return slug[:200] or "business"
