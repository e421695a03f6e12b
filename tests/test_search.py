"""Full-text search (issue 7, point 3): one- and two-character queries find exactly
what a LIKE scan finds, within the user's access, confidential diary entries only for
the case's mediators, FTS syntax in a query is only text, and matches are marked in
escaped snippets. Every DB test runs on SQLite and on PostgreSQL."""
import random
import re
from collections import Counter
from datetime import date
from html import unescape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, or_, select

from mediation.cases.models import Case, Party
from mediation.diary.models import DiaryEntry, EntryKind
from mediation.extensions import db
from mediation.search import search_cases
from mediation.search.models import SearchDoc
from mediation.search.text import CHUNK, MAX_REPEATS, chunks, fold, highlight, highlight_masked, spaced

from .factories import advance, make_case, user, write_entry
from .support import assert_ok, count_queries

ALPHABET = "王伟李娜汤桂珍周国民上阳村01"


# --- text: no database ----------------------------------------------------------------

def test_every_character_is_one_token_and_syntax_is_only_text():
    assert spaced("汤桂珍") == "汤 桂 珍"
    assert spaced("（2026）第0012号") == "x28 2 0 2 6 x29 第 0 0 1 2 号"  # full-width folded
    assert spaced('"AND" NEAR(*)-') == "x22 a n d x22 x20 n e a r x28 x2a x29 x2d"
    for text in ("汤桂珍", "a-b (c) \"d\"", "𰻞𰻞面 é〇", "x22"):
        tokens = spaced(text).split(" ")
        assert len(tokens) == len(text)
        assert all(re.fullmatch(r"[0-9a-z\u3400-\u4db5\u4e00-\u9fcc]|x[0-9a-f]+", t) for t in tokens)
    assert spaced("x22") != spaced('"')  # a typed placeholder is three one-letter tokens


def test_highlight_escapes_first_then_marks():
    html = str(highlight("<b>王伟</b> & 王", "王"))
    assert html == "&lt;b&gt;<mark>王</mark>伟&lt;/b&gt; &amp; <mark>王</mark>"
    assert highlight("李娜", "王") is None
    assert str(highlight("x" * 200 + "王伟" + "y" * 200, "王伟")).count("<mark>王伟</mark>") == 1
    # A name as the result's header shows it (汤**), the matched part marked, never revealed (issue 14.13).
    assert str(highlight_masked("汤桂珍", "桂")) == "汤<mark>*</mark>*"
    assert str(highlight_masked("欧阳桂珍", "珍")) == "欧**<mark>*</mark>"
    assert str(highlight("汤桂珍说三个儿子不管她", "儿子", names=["汤桂珍"])) == "汤**说三个<mark>儿子</mark>不管她"
    assert str(highlight("汤桂珍说", "桂珍", names=["汤桂珍"])) == "汤<mark>**</mark>说"
    assert str(highlight("<i>ABC</i>", "b")) == "&lt;i&gt;A<mark>B</mark>C&lt;/i&gt;"


@given(st.text(alphabet=ALPHABET + "<>&\" ", max_size=80), st.text(alphabet=ALPHABET + "<&", min_size=1, max_size=3))
def test_highlight_marks_exactly_the_occurrences(text, query):
    html = highlight(text, query, width=1000)
    assert (html is None) == (query not in text)
    if html is not None:
        assert unescape(re.sub(r"</?mark>", "", str(html))) == text
        assert all(unescape(m) == query for m in re.findall(r"<mark>(.*?)</mark>", str(html)))


@pytest.mark.parametrize("kind", ["mixed", "one character", "runs"])
def test_long_text_is_chunked_with_overlap(kind):
    rng = random.Random(1)
    n = CHUNK * 3 + 17
    text = {"mixed": lambda: "".join(rng.choice(ALPHABET + "，。的了在是有") * 3 for _ in range(n // 3)),
            "one character": lambda: "李" * n,  # what the first version of this test drew by mistake
            "runs": lambda: "".join(rng.choice(ALPHABET) * rng.randint(1, 400) for _ in range(60))[:n]}[kind]()
    parts = chunks(text)
    if kind == "mixed":
        assert len(parts) == 4
    assert all(len(p) <= CHUNK for p in parts)
    # PostgreSQL keeps 256 positions of a lexeme: no piece holds a token more often.
    assert all(max(Counter(spaced(p).split(" ")).values()) <= MAX_REPEATS for p in parts)
    for i in range(len(text) - 50):  # every window of 50 characters lies inside one chunk
        if i % 97 == 0:
            assert any(text[i:i + 50] in p for p in parts)


# --- the corpus and the LIKE oracle -------------------------------------------------------

def _random_text(rng, lo, hi):
    return "".join(rng.choice(ALPHABET + "，。") for _ in range(rng.randint(lo, hi)))


@pytest.fixture
def corpus(demo):
    """40 cases with names, summaries, claims and diary entries drawn from a small
    alphabet (so that one- and two-character queries match often), some entries
    confidential."""
    rng = random.Random(7)
    med = user("med-320413109201")
    cases = []
    for _i in range(40):
        name = lambda: "".join(rng.choice(ALPHABET[:-2]) for _ in range(rng.randint(2, 3)))  # noqa: E731
        case = make_case(applicant=name(), respondent=name(), summary=_random_text(rng, 3, 30),
                         claims=_random_text(rng, 0, 12), commit=False)
        cases.append(case)
        for _j in range(rng.randint(0, 2)):
            db.session.add(DiaryEntry(case_id=case.id, author_id=med.id, unit_id=case.unit_id, kind=EntryKind.VISIT,
                                      occurred_on=date(2026, 11, 3), issues=_random_text(rng, 0, 20),
                                      result=_random_text(rng, 0, 20), positions={"1": _random_text(rng, 0, 8)},
                                      confidential=rng.random() < 0.3))
    db.session.commit()
    return cases


def like_oracle(query: str) -> set[int]:
    """Cases whose number, party names, summary, claims or non-confidential diary text
    contain ``query``: a plain LIKE scan (the corpus has no % or _)."""
    like = f"%{query}%"
    by_case = select(Case.id).where(or_(Case.number.like(like), Case.summary.like(like), Case.claims.like(like)))
    by_party = select(Party.case_id).where(Party.name.like(like))
    text_cols = [DiaryEntry.issues, DiaryEntry.result, DiaryEntry.place, DiaryEntry.proposals,
                 DiaryEntry.next_step, DiaryEntry.others_present, DiaryEntry.remaining_risk]
    by_entry = select(DiaryEntry.case_id).where(DiaryEntry.confidential.is_(False),
                                                or_(*[c.like(like) for c in text_cols]))
    found = set(db.session.scalars(by_case.union(by_party, by_entry)))
    # positions are JSON: compared in Python
    for case_id, positions in db.session.execute(
            select(DiaryEntry.case_id, DiaryEntry.positions).where(DiaryEntry.confidential.is_(False))):
        if any(query in str(v) for v in (positions or {}).values()):
            found.add(case_id)
    return found


def found(username: str, query: str) -> set[int]:
    return set(db.session.scalars(search_cases(user(username), query).case_ids))


def test_one_and_two_characters_find_exactly_what_like_finds(corpus):
    queries = list(ALPHABET) + [a + b for a in ALPHABET for b in ALPHABET]
    admin = user("admin")
    hits = 0
    for q in queries:
        expected = like_oracle(q)
        got = set(db.session.scalars(search_cases(admin, q).case_ids))
        assert got == expected, q
        hits += bool(expected)
    assert hits > 100  # the corpus is dense enough to mean something


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(alphabet=ALPHABET, min_size=1, max_size=4))
def test_random_queries_match_the_like_scan(corpus, query):
    assert found("admin", query) == like_oracle(query)


def test_common_queries_walk_the_area_and_find_the_same(corpus, app):
    """A query matching more pieces than SEARCH_COMMON_PIECES is looked for case by case,
    newest first (issue 12.6): within the area's newest SEARCH_SCAN_CASES cases it finds
    exactly what the index (and a LIKE scan) finds."""
    app.config["SEARCH_COMMON_PIECES"] = 5
    admin, town, elsewhere = user("admin"), user("coord-320413109"), user("coord-320413106")
    common = 0
    for q in list(ALPHABET) + ["王伟", "汤桂", "0"]:
        results = search_cases(admin, q)
        common += results.common
        assert set(db.session.scalars(results.case_ids)) == like_oracle(q), q
        assert results.since is None  # 40 cases: the whole area is looked through
        assert set(db.session.scalars(search_cases(town, q).case_ids)) == like_oracle(q), q
        assert set(db.session.scalars(search_cases(elsewhere, q).case_ids)) == set(), q
    assert common >= 8
    # Newest first, the page as the index would give it.
    hits = [h.case.id for h in search_cases(admin, "王", limit=7).hits]
    app.config["SEARCH_COMMON_PIECES"] = 10_000
    assert [h.case.id for h in search_cases(admin, "王", limit=7).hits] == hits


def test_whether_a_query_is_common_is_remembered_for_a_while(corpus, app):
    """Counting a query's pieces (is it common?) runs once per worker for a few minutes: the
    answer is the same for everyone and the count is a search's dearest query."""
    from sqlalchemy import event

    probes = []

    def spy(_conn, _cursor, statement, *_a):
        probes.append(statement) if ("search_fts_probe" in statement or "count(" in statement.lower()
                                     and "search_doc" in statement) else None
    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        app.config["SEARCH_COMMON_PIECES"] = 5
        assert search_cases(user("admin"), "王").common and len(probes) == 1
        assert search_cases(user("coord-320413109"), "王").common and len(probes) == 1  # anyone's
        assert not search_cases(user("admin"), "汤桂").common and len(probes) == 2  # its own answer
        app.config["SEARCH_COMMON_PIECES"] = 10_000  # another bound: counted afresh
        assert not search_cases(user("admin"), "王").common and len(probes) == 3
        app.config.update(SEARCH_COMMON_PIECES=6, SEARCH_MEMO_SECONDS=0)  # forgotten at once
        assert search_cases(user("admin"), "王").common and len(probes) == 4
        assert search_cases(user("admin"), "王").common and len(probes) == 5
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)


def test_where_a_common_query_stops_is_remembered_per_user(corpus, app):
    """A common query's walk stops at the newest SEARCH_SCAN_CASES cases of the user's area:
    that date is looked up once per user for a few minutes (each page of results needs it)."""
    from sqlalchemy import event

    walks = []

    def spy(_conn, _cursor, statement, *_a):
        walks.append(statement) if "OFFSET" in statement and "count(" not in statement else None
    app.config.update(SEARCH_COMMON_PIECES=5, SEARCH_SCAN_CASES=10)
    admin, town = user("admin"), user("coord-320413109")
    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        first = search_cases(admin, "王").since
        assert first is not None and len(walks) == 1
        assert search_cases(admin, "伟").since == first and len(walks) == 1  # any common query
        assert search_cases(town, "王").since is not None and len(walks) == 2  # the town's own area
        app.config["SEARCH_SCAN_CASES"] = 20  # another bound: looked up afresh
        assert search_cases(admin, "王").since <= first and len(walks) == 3
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)


def test_a_common_query_looks_through_the_newest_cases_only_and_says_so(corpus, app, login):
    app.config.update(SEARCH_COMMON_PIECES=5, SEARCH_SCAN_CASES=10)
    results = search_cases(user("admin"), "王")
    assert results.common and results.since is not None
    ids = set(db.session.scalars(results.case_ids))
    assert ids and all(db.session.get(Case, i).intake_date >= results.since for i in ids)
    page = login("admin").get("/search?q=王").get_data(as_text=True)
    assert 'id="search-since"' in page
    app.config["SEARCH_SCAN_CASES"] = 20_000
    assert 'id="search-since"' not in login("admin").get("/search?q=王").get_data(as_text=True)


def test_a_common_query_is_not_counted_and_pages_by_next(corpus, app, login):
    """Issue 12.6: a common query shows the newest matches first and a next page when
    there is one, without counting its cases (no count(*) runs for it)."""
    app.config["SEARCH_COMMON_PIECES"] = 5
    expected = like_oracle("王")
    first = search_cases(user("admin"), "王", limit=7)
    assert first.common and first.total is None and first.pages is None and not first.more
    assert len(first.hits) == 7 and first.has_next
    pages, offset = [], 0
    while True:
        r = search_cases(user("admin"), "王", limit=7, offset=offset)
        pages.append([h.case.id for h in r.hits])
        if not r.has_next:
            break
        offset += 7
    assert sorted(i for p in pages for i in p) == sorted(expected)  # every case once, page by page
    client = login("admin")
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = client.get("/search?q=王").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # The probe that finds the query common counts pieces of the index (up to a bound): allowed.
    counted = [s for s in statements if "count(" in s.lower() and "search_fts_probe" not in s
               and "tsv @@" not in s]
    assert [s for s in counted if "FROM notification" not in s] == []  # (the menu counts unread messages)
    assert "按登记时间从新到旧显示" in page.split('id="search-total"')[1][:200]
    assert "page=2" in page and "第 1 页" in page and "第 1 页，共" not in page
    n = -(-len(expected) // 20)  # the page's 20 a page
    last = client.get(f"/search?q=王&page={n}").get_data(as_text=True)
    assert "search-hit" in last
    # No next page: the item is greyed out and is not a link (a tap on it went to an empty page).
    assert re.search(r'page-item disabled"><span class="page-link" aria-disabled="true">下一页</span>', last)
    assert f"page={n + 1}" not in last


def test_a_common_query_pages_stop_at_the_bound_and_small_results_are_counted(corpus, app, login):
    app.config.update(SEARCH_COMMON_PIECES=5, COUNT_BOUND=20)
    results = search_cases(user("admin"), "王", limit=20)
    assert results.common and results.total is None and results.at_bound and not results.has_next
    page = login("admin").get("/search?q=王").get_data(as_text=True)
    assert 'id="search-end"' in page and "/cases/?q=" in page.split('id="search-end"')[1][:600]
    app.config["COUNT_BOUND"] = 1000
    every = search_cases(user("admin"), "王", limit=100)  # all on the first page: counted after all
    assert every.common and every.total == len(every.hits) == len(like_oracle("王"))
    assert not search_cases(user("admin"), "王", limit=7).at_bound


def test_a_page_past_the_last_shows_the_last_and_spaces_are_explained(corpus, app, login):
    app.config["SEARCH_COMMON_PIECES"] = 10_000
    client = login("admin")
    page = client.get("/search?q=王&page=99").get_data(as_text=True)
    assert "search-hit" in page
    spaced_out = client.get("/search?q=王 李 赵 钱").get_data(as_text=True)
    assert "空格也会计入" in spaced_out


def test_a_query_longer_than_is_searched_says_what_was_searched(corpus, login):
    """No silent truncation: a pasted query past MAX_QUERY characters is searched in part, and
    the page says which part."""
    from mediation.search.text import MAX_QUERY

    client = login("admin")
    page = client.get("/search?q=" + "王" * MAX_QUERY).get_data(as_text=True)
    assert 'id="search-cut"' not in page
    page = client.get("/search?q=" + "王" * MAX_QUERY + "李芳").get_data(as_text=True)
    notice = unescape(page.split('id="search-cut"')[1][:400])
    assert f"只搜索了前 {MAX_QUERY} 个字" in notice and "王" * MAX_QUERY + "”" in notice
    assert 'name="q" value="' + "王" * MAX_QUERY + "李芳" in page  # the box keeps what was typed


def test_the_case_list_with_a_common_query_lists_the_same_cases_uncounted(corpus, app, login):
    """The case list's search box: a common query filters the list row by row as it walks
    its index (no set of matches gathered first, no counts per status) and lists what the
    index would find."""
    from mediation.cases import listing

    admin = user("admin")
    for common in (False, True):
        app.config["SEARCH_COMMON_PIECES"] = 5 if common else 10_000
        for q in ("王", "芳", "王伟"):
            stmt, counts_stmt, _u, _v = listing.filtered_cases(admin, {"q": q})
            assert {c.id for c in db.session.scalars(stmt)} == like_oracle(q), (q, common)
            assert (counts_stmt is None) == search_cases(admin, q).common
    app.config["SEARCH_COMMON_PIECES"] = 5
    page = login("admin").get("/cases/?q=王").get_data(as_text=True)
    assert "未统计件数" in page.split('id="status-counts"')[1][:200] and 'id="case-total"' not in page
    nothing = login("admin").get("/cases/?q=王&status=pending_transfer").get_data(as_text=True)
    assert "未统计件数" not in nothing  # no rows: the usual empty list, no note
    app.config["SEARCH_COMMON_PIECES"] = 10_000
    page = login("admin").get("/cases/?q=王").get_data(as_text=True)
    assert 'id="case-total"' in page


def test_counts_stop_at_the_bound(corpus, app, login):
    expected = len(like_oracle("王"))
    app.config["COUNT_BOUND"] = 5
    app.config["SEARCH_COMMON_PIECES"] = 10_000  # counted through the index (a rare query's way)
    results = search_cases(user("admin"), "王", limit=2)
    assert expected > 6 and results.total == 6 and results.more and results.pages == 3
    page = login("admin").get("/search?q=王").get_data(as_text=True)
    assert 'id="search-total"' in page and "5" in page.split('id="search-total"')[1][:80]
    cases = login("admin").get("/cases/").get_data(as_text=True)
    assert "5+" in cases.split('id="status-counts"')[1][:2000]  # 40 registered cases: "登记 5+"


def test_results_page_total_and_snippets(corpus):
    results = search_cases(user("admin"), "王", limit=7, offset=0)
    assert results.total == len(like_oracle("王")) > 7
    assert len(results.hits) == 7
    page2 = search_cases(user("admin"), "王", limit=7, offset=7)
    assert not {h.case.id for h in results.hits} & {h.case.id for h in page2.hits}
    for hit in results.hits:
        # Every snippet marks its match (inside a party's name masked, as the header masks it: 汤<mark>*</mark>).
        assert hit.snippets and all(re.search(r"<mark>(王|\*)</mark>", str(s.html)) for s in hit.snippets)
        assert not any(s.confidential for s in hit.snippets)  # admin is no mediator of these cases


# --- chunks, updates, rollback, reindex --------------------------------------------------

def test_long_diary_text_is_found_across_chunks_and_far_into_the_text(demo):
    case = make_case()
    advance(case, "accept", "assign")
    filler = "调" * (CHUNK - 1)
    text = filler + "甲乙" + "解" * 20000 + "丙丁"  # 甲乙 across the first boundary; 丙丁 past 16,383
    write_entry(case, issues=text)
    assert found("med-320413109201", "甲乙") == {case.id}
    assert found("med-320413109201", "丙丁") == {case.id}
    assert found("med-320413109201", "乙解") == {case.id}


def test_a_character_repeated_hundreds_of_times_hides_no_later_match(demo):
    """PostgreSQL keeps at most 256 positions of a lexeme per tsvector (issue 12.6): with
    one token per character, a text with "0" more than 256 times lost the later ones, and
    a phrase such as 80000 after them was not found."""
    case = make_case()
    advance(case, "accept", "assign")
    ledger = "借款10000元；" * 80 + "另欠货款80000元，" + "利息" * 300 + "最后一笔12345。"  # 0 × 320, 息 × 300
    write_entry(case, issues=ledger)
    other = make_case(summary="一" * 1200 + "末尾的字")  # one character more than 256 times at the start
    for query in ("80000", "欠货款8", "12345", "最后", "10000", "息最"):
        assert found("med-320413109201", query) >= {case.id}, query
    assert found("med-320413109201", "末尾") == {other.id}
    assert found("med-320413109201", "一末") == {other.id}


def test_the_index_follows_edits_parties_amendments_and_rollbacks(demo):
    from mediation.cases import services
    from mediation.diary import services as diary

    case = make_case(applicant="汤桂珍", respondent="周国民", summary="老宅归属争议")
    assert found("admin", "老宅") == {case.id} and found("admin", "桂珍") == {case.id}
    values = {f: getattr(case, f) for f in services.CASE_FIELDS}
    values["summary"] = "赡养费分担争议"
    parties = [{f: getattr(p, f) for f in services.PARTY_FIELDS} for p in case.parties]
    parties[0]["name"] = "汤秀英"
    services.update_case(case, values=values, parties=parties, by=user("med-320413109201"),
                         expected_version=case.version)
    db.session.commit()
    assert found("admin", "老宅") == set() and found("admin", "赡养费") == {case.id}
    assert found("admin", "桂珍") == set() and found("admin", "秀英") == {case.id}
    assert found("admin", "周国民") == {case.id}

    advance(case, "accept", "assign")
    entry = write_entry(case, issues="第一次谈话")
    assert found("admin", "谈话") == {case.id}
    diary.amend(entry, case, by=user("med-320413109201"), reason="补记", text="补充了宅基地的情况")
    db.session.commit()
    assert found("admin", "宅基地") == {case.id}

    # A rolled-back registration leaves nothing in the index.
    make_case(applicant="回滚人", commit=False)
    db.session.rollback()
    assert found("admin", "回滚人") == set()
    assert db.session.scalar(select(func.count()).select_from(SearchDoc).where(SearchDoc.content == "回滚人")) == 0


def test_reindex_rebuilds_a_lost_index(demo, runner):
    case = make_case(applicant="欧阳娜", summary="重建索引的案件")
    db.session.execute(SearchDoc.__table__.delete())
    db.session.commit()
    assert found("admin", "欧阳") == set()
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert found("admin", "欧阳") == {case.id} and found("admin", "重建") == {case.id}
    assert found("admin", case.number[-5:-1]) >= {case.id}


# --- access and confidentiality ----------------------------------------------------------

def test_search_stays_within_the_users_access(demo, login):
    here = make_case(summary="上阳村两兄弟为老宅争执")
    there = make_case(by="med-320413106005", summary="邻镇也有人提到上阳")
    assert found("coord-320413109", "上阳") == {here.id}
    assert found("med-320413109201", "上阳") == {here.id}
    assert found("coord-320413106", "上阳") == {there.id}
    assert found("admin", "上阳") == {here.id, there.id}
    assert found("med-320413109202", "上阳") == set()  # another village of the same town
    assert found("grid-320413109201", "上阳") == set()  # no case files
    page = login("coord-320413109").get("/search?q=上阳").get_data(as_text=True)
    assert here.number in page and there.number not in page
    assert there.number not in login("coord-320413109").get("/cases/?q=上阳").get_data(as_text=True)


def test_confidential_entries_match_only_for_the_cases_mediators(demo, login):
    case = make_case()
    advance(case, "accept", "assign")  # lead: med-320413109201
    write_entry(case, issues="背靠背谈到的隐情", confidential=True)
    write_entry(case, issues="公开记录")
    assert found("med-320413109201", "隐情") == {case.id}
    assert found("coord-320413109", "隐情") == set()
    assert found("admin", "隐情") == set()
    assert found("coord-320413109", "公开") == {case.id}
    coord = login("coord-320413109")
    assert case.number not in coord.get("/search?q=隐情").get_data(as_text=True)
    assert case.number not in coord.get("/cases/?q=隐情").get_data(as_text=True)
    page = login("med-320413109201").get("/search?q=隐情").get_data(as_text=True)
    assert case.number in page and "<mark>隐情</mark>" in page and "保密" in page


# --- the page ------------------------------------------------------------------------------

SYNTAX = ['"', "AND", "OR", "NOT", "*", "NEAR(", "(", ")", "-", "-王", "王*", '"王', "'", "\\", "%", "_", "a:b",
          "^王", "{王}", "王 OR 李", "   ", "x22", "🙂", '"AND"', "(NEAR)-"]


def test_fts_syntax_in_a_query_is_only_text(demo, login):
    case = make_case(summary='他说"AND"与(NEAR)-都是*字')
    c = login("med-320413109201")
    for query in SYNTAX:
        assert c.get("/search", query_string={"q": query}).status_code == 200, query
        assert c.get("/cases/", query_string={"q": query}).status_code == 200, query
        expected = {case.id} if query.strip() and fold(query.strip()) in fold(case.summary) else set()
        assert found("med-320413109201", query) == expected, query
    assert found("med-320413109201", '"AND"') == {case.id}


def test_page_marks_matches_masks_names_and_escapes(demo, login):
    case = make_case(applicant="汤桂珍", respondent="周国民", summary="<script>alert(1)</script>桂花树")
    page = login("med-320413109201").get("/search?q=桂").get_data(as_text=True)
    assert case.number in page
    assert "汤<mark>*</mark>*" in page  # the name, masked as the header masks it
    assert "汤桂珍" not in page and "周**" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>桂</mark>花树" in page
    assert "<script>alert" not in page
    assert "<mark>0001</mark>" in login("admin").get("/search?q=0001").get_data(as_text=True)
    assert case.number in login("admin").get("/search?q=(2026)").get_data(as_text=True)  # half-width brackets


def test_page_is_paginated_and_its_query_count_does_not_grow(demo, login, app):
    coord = login("coord-320413109")

    def queries(path):
        return count_queries(lambda: assert_ok(coord.get(path)))

    make_case(applicant="林一")
    queries("/search?q=林")  # the first request of a session may do once-a-session work
    few = queries("/search?q=林")
    for i in range(24):
        make_case(applicant=f"林{i}", summary=f"林家的第{i}件事")
    assert queries("/search?q=林") == few <= 12
    page1 = coord.get("/search?q=林").get_data(as_text=True)
    assert page1.count('class="list-group-item list-group-item-action search-hit"') == 20
    page2 = coord.get("/search?q=林&page=2").get_data(as_text=True)
    assert page2.count('class="list-group-item list-group-item-action search-hit"') == 5


def test_search_page_and_nav_are_for_caseworkers(demo, login):
    for username in ("med-320413109201", "coord-320413109", "admin"):
        c = login(username)
        assert 'href="/search"' in c.get("/cases/").get_data(as_text=True)
        assert c.get("/search").status_code == 200
    for username in ("grid-320413109201", "stats"):
        assert login(username).get("/search?q=王").status_code == 403
