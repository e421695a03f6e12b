"""Text for the search index: one token per character, and highlighting.

Both engines tokenise the same string: every character of the text becomes one
token, separated by spaces. ASCII letters and digits and the common CJK ideographs
stay as they are; every other character (punctuation, spaces, rarer scripts,
ideographs outside the blocks both tokenisers know) becomes a placeholder token
``x<hex code point>``, which no typed character can produce (typed characters give
one-character tokens). A query spaced the same way and searched as a phrase then
matches exactly where the text contains the query as a substring (after folding
full-width forms and ASCII case), which is what a ``LIKE '%…%'`` scan finds, and
FTS query syntax in a query (quotes, ``*``, ``AND``, ``NEAR``, parentheses, ``-``)
is only text.
"""
from markupsafe import Markup, escape

MAX_QUERY = 50  # characters of a query that are used
CHUNK = 2000  # characters of text per index row (PostgreSQL keeps positions up to 16,383)
# PostgreSQL keeps at most 256 positions of one lexeme in a tsvector and drops the rest: a
# character repeated more often in one row would hide every later match of a phrase with it
# (80000 after three hundred zeros). A row ends before that (one token per character).
MAX_REPEATS = 256
OVERLAP = 64  # characters repeated at the start of the next chunk: > MAX_QUERY, so no match is cut


def fold_char(ch: str) -> str:
    """Full-width ASCII forms to ASCII, any space to " ", ASCII letters to lower case:
    one character in, one character out (so positions in the folded text are positions
    in the original)."""
    o = ord(ch)
    if 0xFF01 <= o <= 0xFF5E:
        ch = chr(o - 0xFEE0)
    elif ch.isspace():
        return " "
    if "A" <= ch <= "Z":
        return ch.lower()
    return ch


def fold(text: str) -> str:
    return "".join(fold_char(c) for c in text)


def _token(ch: str) -> str:
    o = ord(ch)
    if "a" <= ch <= "z" or "0" <= ch <= "9" or 0x4E00 <= o <= 0x9FCC or 0x3400 <= o <= 0x4DB5:
        return ch
    return f"x{o:x}"


def spaced(text: str) -> str:
    """The index form of ``text``: one space-separated token per character."""
    return " ".join(_token(fold_char(c)) for c in text)


def clean_query(query: str | None) -> str:
    """The part of a typed query that is searched: trimmed, at most MAX_QUERY characters."""
    return (query or "").strip()[:MAX_QUERY].strip()


def _piece_end(text: str, start: int) -> int:
    """Where the piece starting at ``start`` ends: after CHUNK characters, or before the
    character whose token would be in it a MAX_REPEATS + 1st time."""
    counts: dict[str, int] = {}
    end = min(len(text), start + CHUNK)
    for i in range(start, end):
        token = _token(fold_char(text[i]))
        counts[token] = counts.get(token, 0) + 1
        if counts[token] > MAX_REPEATS:
            return i
    return end


def chunks(text: str) -> list[str]:
    """``text`` in overlapping pieces of at most CHUNK characters, none holding one token
    more than MAX_REPEATS times (one piece when short)."""
    if not text:
        return []
    out, start = [], 0
    while True:
        end = _piece_end(text, start)
        out.append(text[start:end])
        if end >= len(text):
            return out
        start = end - OVERLAP


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of each occurrence of ``query`` in ``text``, folded."""
    q = fold(query)
    if not q:
        return []
    t, spans, i = fold(text), [], 0
    while (i := t.find(q, i)) >= 0:
        spans.append((i, i + len(q)))
        i += len(q)
    return spans


def _marked(text: str, spans: list[tuple[int, int]], start: int, end: int) -> Markup:
    """text[start:end], HTML-escaped, with the spans inside it wrapped in <mark>."""
    out, pos = [], start
    for a, b in spans:
        a, b = max(a, start), min(b, end)
        if a >= b:
            continue
        out.append(escape(text[pos:a]))
        out.append(Markup("<mark>%s</mark>") % text[a:b])
        pos = b
    out.append(escape(text[pos:end]))
    return Markup("").join(out)


def mask_names(text: str, names) -> str:
    """``text`` with every occurrence of each name (of two characters or more) masked as the
    result's header masks it (汤桂珍 -> 汤**), character for character, so that positions in
    the masked text are positions in the original."""
    out = list(text)
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        masked = name[:1] + "*" * (len(name) - 1)
        start = 0
        while (i := text.find(name, start)) >= 0:
            out[i:i + len(name)] = masked
            start = i + len(name)
    return "".join(out)


def highlight(text: str, query: str, width: int = 60, names=()) -> Markup | None:
    """A snippet of about ``width`` characters around the first match, every match in
    it marked; None when the text does not contain the query. ``names`` (the case's
    parties) are masked in it as the result's header masks them: a match inside a name
    is marked but not revealed."""
    spans = match_spans(text, query)
    if not spans:
        return None
    first = spans[0][0]
    start = max(0, first - width // 3)
    end = min(len(text), max(start + width, spans[0][1]))
    if end - start < width:
        start = max(0, end - width)
    snippet = _marked(mask_names(text, names), spans, start, end)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return Markup(prefix) + snippet + Markup(suffix)


def highlight_masked(name: str, query: str) -> Markup | None:
    """A party's name exactly as the result's header shows it (汤**), the matched part
    marked: a search reveals no more of a name than the list does."""
    spans = match_spans(name, query)
    if not spans:
        return None
    return _marked(mask_names(name, [name]), spans, 0, len(name))
