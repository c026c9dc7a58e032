"""Data renders as data: markdown and HTML in a document's text, title and id, in query texts and
in a reviewer's name show literally on every page and in the report, and the browser never
fetches an image URL that came from data."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.evaluation.report import render_report
from core.storage.schemas import Document, Judgment, Query, QueryOrigin, QueryStatus, now
from tests.conftest import start_app, stop_app
from tests.results_seed import seed_results


class Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def image_server():
    Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def hostile(img: str, where: str) -> str:
    return (f"# Heading {where} ![pixel]({img}/{where}.png) [link](http://127.0.0.1:9/{where}) **bold** `tick "
            f"<img src=\"{img}/{where}-html.png\"> <b>html</b> $x^2$ :material/home: :red[red] "
            f"see http://evil.example/{where} or www.evil.example, mail me@evil.example")


def seed(store, img: str) -> str:
    seed_results(store)
    evil = f"evil`![id]({img}/id.png)"
    stamp = now()
    store.add("documents", [Document(doc_id=evil, title=hostile(img, "title"), text=hostile(img, "text") + " plan benefits")])
    store.update_where("queries", "split = 'eval'", {"text": hostile(img, "query")})
    store.add("queries", [Query(query_id="syn-evil", text=hostile(img, "review"), origin=QueryOrigin.synthetic.value,
                                source_doc_id=evil, generator="offline@v1", status=QueryStatus.pending.value, created_at=stamp)])
    store.add("judgments", [Judgment(query_id="e01", doc_id=evil, reviewer=who, grade=g, created_at=stamp, updated_at=stamp)
                            for who, g in (("ann", 5), (f"**bob**![r]({img}/reviewer.png)", 0))])
    store.ensure_fts_index()
    return evil


def check_literal(page, img: str) -> None:
    """No image, disguised link or heading made from data; the markup is on screen as text."""
    assert page.locator(f"img[src^='{img}']").count() == 0
    links = page.locator(f"a[href^='http://127.0.0.1:9/'], a[href^='{img}'], a[href*='evil.example']")  # bare URLs too
    assert links.count() == 0, [links.nth(i).get_attribute("href") for i in range(links.count())]
    headings = page.locator("h1, h2, h3, h4, h5, h6", has_text="Heading")  # the page's own headings may hold data, with its '#'
    assert all("# Heading" in headings.nth(i).inner_text() for i in range(headings.count()))
    assert page.get_by_text("![pixel](", exact=False).count() > 0
    assert "Traceback" not in page.content()


@pytest.mark.browser
def test_markdown_and_html_in_data_show_as_text_and_fetch_nothing(browser, store, workspace, image_server):
    img = image_server
    seed(store, img)
    process, url = start_app(workspace.workspace)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1200})

        page.goto(url + "/data?reviewer=ann")
        page.get_by_placeholder("e.g. silver ppo deductible 2026").fill("heading plan benefits")
        page.keyboard.press("Enter")
        page.locator("[data-testid='stExpander']").first.wait_for(timeout=120_000)
        page.locator("[data-testid='stExpander'] summary", has_text="# Heading title ![pixel](").first.click()
        page.get_by_text("# Heading text ![pixel](", exact=False).first.wait_for(timeout=10_000)
        check_literal(page, img)
        assert page.get_by_text(re.compile("see http\u2060?://evil\\.example/text")).count() > 0  # the bare URL, as text

        page.goto(url + "/review?reviewer=ann")
        page.locator("[data-testid='review-query']").wait_for(timeout=60_000)
        assert "![pixel](" in page.locator("[data-testid='review-query']").inner_text()
        assert "![id](" in page.content()  # the source document's id, as text in the caption
        check_literal(page, img)

        page.goto(url + "/grade?reviewer=ann")
        page.locator(".st-key-g_document").wait_for(timeout=180_000)
        check_literal(page, img)

        page.goto(url + "/agreement?reviewer=ann")
        page.get_by_text("Widest disagreements").wait_for(timeout=60_000)
        page.get_by_text("**bob**![r](", exact=False).first.wait_for(timeout=10_000)
        check_literal(page, img)

        page.goto(url + "/results?reviewer=ann")
        page.get_by_role("tab", name="Drill-down").click()
        page.get_by_role("button", name="Grade more for this query").first.wait_for(timeout=60_000)
        check_literal(page, img)

        report = render_report(store, "r-big")
        assert f'<img src="{img}' not in report and "&lt;img src=" in report
        page.set_content(report)
        page.wait_for_timeout(1000)
        assert page.locator(f"img[src^='{img}']").count() == 0 and page.get_by_text("![pixel](", exact=False).count() > 0
    finally:
        stop_app(process)
    assert Recorder.requests == []


@pytest.mark.browser
def test_a_typed_reviewer_name_sticks_across_pages_and_reloads(browser, live_app):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(live_app + "/agreement")
    box = page.get_by_placeholder("your name")
    box.fill("ann")
    box.press("Enter")
    page.wait_for_url("**/agreement?reviewer=ann", timeout=30_000)
    page.get_by_role("link", name="Data").click()  # st.navigation drops query parameters on a page switch
    page.get_by_placeholder("e.g. silver ppo deductible 2026").wait_for(timeout=60_000)
    page.wait_for_url("**/data?reviewer=ann", timeout=30_000)
    page.reload()
    page.get_by_placeholder("your name").wait_for(timeout=60_000)
    assert page.get_by_placeholder("your name").input_value() == "ann"
