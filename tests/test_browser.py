"""The chat app in a real headless Chromium (Debian's chromium + chromium-driver, via selenium).

Asks a question, watches the answer stream in, opens the sources and finds the cited
sentence highlighted; uploads an article through the file input and asks about it; asks
something the articles do not cover and sees the refusal. Screenshots go to
artifacts/browser/.

Skipped only when Chromium is missing outside CI; in CI (env CI set) a missing browser fails.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import LAKE_ARTICLE, ROOT

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "artifacts" / "browser"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

BRIDGE_ARTICLE = """白沙河新桥建成通车

2025-06-30

白沙河新桥全长860米，双向六车道，于6月30日正式建成通车。

新桥建成后，两岸之间的通行时间由40分钟缩短到8分钟。大桥两侧还设置了人行步道和观景平台。
"""
OTHER_BRIDGE_ARTICLE = """青石河老桥完成加固

2025-08-15

青石河老桥建于1978年，今年4月起封闭施工，加固桥墩并更换全部护栏。

加固工程投资1200万元，完工后限载由20吨提高到40吨，公交线路随之恢复。
"""
WAIT = 60  # seconds; generous for a loaded 2-core machine

# Records every text the newest answer bubble shows, to see the answer arrive in pieces.
RECORD_JS = """
window.__dqSeen = [];
const chat = document.querySelector('#chat');
new MutationObserver(() => {
  const bots = chat.querySelectorAll('[data-testid="bot"]');
  if (bots.length) window.__dqSeen.push(bots.length + '|' + bots[bots.length - 1].innerText);
}).observe(chat, {subtree: true, childList: true, characterData: true});
"""


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser test (see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed")
    if not (CHROMIUM and CHROMEDRIVER):
        _missing("chromium / chromedriver not found (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="dq-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1500",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _until(drv: Any, what: Callable[[Any], Any], message: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, WAIT, poll_frequency=0.1).until(what, message)


def _shot(drv: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    drv.save_screenshot(str(path))
    return path


def _dev_question(qa: Any) -> tuple[str, str]:
    """A dev-set question the app answers, with the sentence it should cite.

    The dev set lives next to the repository (../shared/eval); without it the question is
    about the made-up article the test app always has.
    """
    if DEV_SET.is_file():
        for line in DEV_SET.read_text("utf-8").splitlines():
            item = json.loads(line)
            if item.get("answerable"):
                answer = qa.ask(item["question"])
                if answer.answered:
                    return item["question"], answer.citations[0].sentence
    answer = qa.ask("青松湖湿地公园2024年接待了多少游客？")
    assert answer.answered, LAKE_ARTICLE
    return answer.question, answer.citations[0].sentence


def _ask(drv: Any, question: str) -> Any:
    """Type a question, wait for the answer and its sources; return the answer bubble."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(drv.find_elements(By.CSS_SELECTOR, "#chat .thought"))
    box = drv.find_element(By.CSS_SELECTOR, "#question textarea")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    _until(
        drv,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#chat .thought")) > before,
        f"no sources section appeared for {question!r}",
    )
    return drv.find_elements(By.CSS_SELECTOR, "#chat .bot.message > .message:not(.thought)")[-1]


def _open_last_sources(drv: Any) -> Any:
    from selenium.webdriver.common.by import By

    thought = drv.find_elements(By.CSS_SELECTOR, "#chat .thought")[-1]
    thought.find_element(By.CSS_SELECTOR, ".title").click()
    _until(
        drv,
        lambda d: any(e.is_displayed() and e.text for e in thought.find_elements(By.CSS_SELECTOR, ".dq-sources")),
        "sources did not open",
    )
    return thought


def test_chat_upload_and_sources_in_browser(driver: Any, served_app: tuple[str, Any], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url, qa = served_app
    question, cited = _dev_question(qa)
    driver.get(url)
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#question textarea"), "the page did not load")
    assert "大东区新闻问答" in driver.title

    # 1. A question: the answer streams in, then its collapsed sources.
    driver.execute_script(RECORD_JS)
    answer = _ask(driver, question)
    seen = driver.execute_script("return window.__dqSeen")
    final = answer.text
    assert cited[:10] in final, final
    assert any("正在检索" in s for s in seen), seen
    shown = [s.split("|", 1)[1].strip() for s in seen]
    # (the finished bubble may open with the short answer, so a piece is found inside it)
    pieces = [s for s in shown if 0 < len(s) < len(final) - 2 and s[:6] in final]
    assert pieces, f"the answer did not arrive in pieces: {seen[:20]}"

    # 2. Open the sources: the cited sentence is there, highlighted, with title and date.
    thought = _open_last_sources(driver)
    marks = ["".join(m.text.split()) for m in thought.find_elements(By.CSS_SELECTOR, "mark")]
    assert "".join(cited.split()) in marks, marks
    assert "《" in thought.text and "来源" in thought.text
    _shot(driver, "chat-sources.png")

    # 3. Upload an article through the file input of the articles tab.
    article = tmp_path / "bridge.txt"
    article.write_text(BRIDGE_ARTICLE, "utf-8")
    driver.find_element(By.XPATH, "//button[@role='tab' and contains(., '文章管理')]").click()
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#upload input[type=file]"), "no file input")
    driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(article))
    _until(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#upload [aria-label='bridge.txt']"),
        "the upload did not finish",
    )
    driver.find_element(By.ID, "add").click()
    _until(driver, lambda d: "已添加" in d.find_element(By.ID, "change-report").text, "the article was not added")
    _until(driver, lambda d: "白沙河新桥建成通车" in d.find_element(By.ID, "articles").text, "table not updated")
    assert "篇文章" in driver.find_element(By.ID, "index-status").text
    _shot(driver, "articles.png")

    # 4. Ask about the uploaded article, then a follow-up, then something not in any article.
    driver.find_element(By.XPATH, "//button[@role='tab' and contains(., '问答')]").click()
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#question textarea"), "chat tab did not open")
    answer = _ask(driver, "白沙河新桥全长多少米？")
    assert "860米" in answer.text
    answer = _ask(driver, "那它有几条车道？")
    assert "六车道" in answer.text
    rewritten = _open_last_sources(driver).find_element(By.CSS_SELECTOR, ".dq-rewrite").text
    assert "白沙河新桥" in rewritten
    _ask(driver, "示例县今年新建了几座机场？")
    refusals = driver.find_elements(By.CSS_SELECTOR, "#chat .dq-refusal")
    assert refusals and "没有找到" in refusals[-1].text
    assert refusals[-1].value_of_css_property("border-left-color") != answer.value_of_css_property("border-left-color")
    _open_last_sources(driver)
    path = _shot(driver, "chat-final.png")
    assert path.stat().st_size > 10_000

    # 5. Clear the chat, then ask by clicking an example question.
    driver.find_element(By.ID, "clear").click()
    _until(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "#chat .thought"), "the chat was not cleared")
    example = qa.settings.examples[0]
    driver.find_element(By.XPATH, f"//button[contains(., '{example}')]").click()
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat .thought"), "the example was not asked")
    assert example in driver.find_element(By.ID, "chat").text
    # The short answer (the figure) comes first, in bold, above the cited sentence.
    short = _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat .dq-short b"), "no short answer shown")
    expected = qa.ask(example).short
    assert expected and short[-1].text == expected
    _shot(driver, "chat-short-answer.png")

    # 6. Remove the uploaded article, then rebuild the index.
    driver.find_element(By.XPATH, "//button[@role='tab' and contains(., '文章管理')]").click()
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#remove-pick input"), "no article picker")
    driver.find_element(By.CSS_SELECTOR, "#remove-pick input").click()
    option = _until(
        driver,
        lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, "#remove-pick li[role=option]") if "bridge" in o.text],
        "the uploaded article is not offered for removal",
    )[0]
    option.click()
    driver.find_element(By.ID, "remove").click()
    _until(driver, lambda d: d.find_element(By.ID, "remove-yes").is_displayed(), "no confirmation asked")
    assert "bridge" in [d["doc_id"] for d in qa.list_docs()]  # asking changes nothing
    driver.find_element(By.ID, "remove-yes").click()
    _until(driver, lambda d: "已删除：bridge" in d.find_element(By.ID, "change-report").text, "not removed")
    _until(driver, lambda d: "白沙河新桥" not in d.find_element(By.ID, "articles").text, "table still lists it")
    assert "bridge" not in [d["doc_id"] for d in qa.list_docs()]
    version = qa.status()["version"]
    driver.find_element(By.ID, "rebuild").click()
    _until(driver, lambda d: qa.status()["version"] != version, "the index was not rebuilt")
    _until(driver, lambda d: "已重建索引" in d.find_element(By.ID, "change-report").text, "no rebuild report")
    _shot(driver, "articles-after-remove.png")


XSS_ARTICLE = """示例县新建<img src=x onerror="window.__dqXss=1">观鸟台

2025-02-01

示例县新建观鸟台<img src=x onerror="window.__dqXss=2">3座，<script>window.__dqXss=3</script>可同时容纳游客500人。
"""


def test_markup_in_articles_and_questions_stays_text_in_browser(
    driver: Any, served_app: tuple[str, Any], tmp_path: Path
) -> None:
    """An uploaded article and a question carrying HTML: shown as text, nothing runs, no element made."""
    from selenium.webdriver.common.by import By

    url, qa = served_app
    article = tmp_path / "birds_xss.txt"
    article.write_text(XSS_ARTICLE, "utf-8")
    assert qa.add([article]).added == ["birds_xss"]
    driver.get(url)
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#question textarea"), "the page did not load")
    answer = _ask(driver, "示例县新建观鸟台多少座？")
    assert 'onerror="window.__dqXss=2"' in answer.text  # the markup is shown as the article's text
    _open_last_sources(driver)
    _ask(driver, '<img src=x onerror="window.__dqXss=4"><script>window.__dqXss=5</script>观鸟台')
    driver.find_element(By.XPATH, "//button[@role='tab' and contains(., '文章管理')]").click()
    _until(driver, lambda d: "观鸟台" in d.find_element(By.ID, "articles").text, "article not listed")
    assert driver.execute_script("return window.__dqXss === undefined")
    for where in ("#chat", "#articles"):
        assert not driver.find_elements(By.CSS_SELECTOR, f"{where} img[onerror], {where} script"), where
    _shot(driver, "markup-as-text.png")


CAFE_ARTICLE = """Tom's Café开业

2025-03-05

Tom's Café位于示例县小河沿路，店内可容纳80位顾客，人均消费45元。
"""
NO_MARKUP = ("<div", "<sup", "<b>", "<pre", "dq-", "&#", "&lt;", "&amp;", "&quot;")


def test_copy_gives_plain_text_and_a_citation_opens_the_article(
    driver: Any, served_app: tuple[str, Any], tmp_path: Path
) -> None:
    """Copying an answer or the conversation gives plain text with the citations as a list; no HTML
    or entity shows in the chat or its aria labels; 阅读全文 opens the article at the cited sentence."""
    from selenium.webdriver.common.by import By

    url, qa = served_app
    article = tmp_path / "cafe.txt"
    article.write_text(CAFE_ARTICLE, "utf-8")
    assert qa.add([article]).added == ["cafe"]
    driver.get(url)
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#question textarea"), "the page did not load")
    answer = _ask(driver, "Tom's Café人均消费多少？")
    assert answer.find_element(By.CSS_SELECTOR, ".dq-short b").text == "45元"
    chat = driver.find_element(By.ID, "chat").text
    assert "Tom's Café" in chat and not any(m in chat for m in NO_MARKUP)
    answer.find_element(By.CSS_SELECTOR, ".dq-copy").click()
    copied = _until(driver, lambda d: d.execute_script("return window.__dqCopied"), "nothing was copied")
    assert copied == "\n".join(
        [
            "45元（2025年）",
            "Tom's Café位于示例县小河沿路，店内可容纳80位顾客，人均消费45元。[1]",
            "来源：",
            "[1] 《Tom's Café开业》 2025-03-05：Tom's Café位于示例县小河沿路，店内可容纳80位顾客，人均消费45元。",
        ]
    )
    parts = _ask(driver, "Tom's Café可容纳多少位顾客和人均消费分别是多少？")
    driver.find_element(By.ID, "copy-all").click()
    everything = _until(
        driver, lambda d: (t := d.execute_script("return window.__dqCopied")) != copied and t, "copy-all did nothing"
    )
    assert everything.startswith("问：Tom's Café人均消费多少？\n\n答：45元（2025年）")
    assert "问：Tom's Café可容纳" in everything and not any(m in everything for m in NO_MARKUP)
    labels = driver.execute_script(
        "return [...document.querySelectorAll('#chat [aria-label]')].map(e => e.getAttribute('aria-label'))"
    )
    assert any(lb.startswith("问题：Tom's Café") for lb in labels), labels
    assert not any(m in lb for lb in labels for m in NO_MARKUP), labels
    _shot(driver, "chat-copy-and-parts.png")
    assert parts.find_elements(By.CSS_SELECTOR, ".dq-parts li") or "部分回答" in parts.text

    # Read the source: the link opens the whole article in a new tab, the sentence highlighted.
    sources = _open_last_sources(driver)
    link = sources.find_elements(By.CSS_SELECTOR, "a.dq-read")[0]
    main = driver.current_window_handle
    link.click()
    _until(driver, lambda d: len(d.window_handles) > 1, "阅读全文 opened nothing")
    driver.switch_to.window(next(h for h in driver.window_handles if h != main))
    mark = _until(driver, lambda d: d.find_elements(By.TAG_NAME, "mark"), "no highlighted sentence")[0]
    assert "人均消费45元" in mark.text or "80位顾客" in mark.text
    assert driver.find_element(By.TAG_NAME, "h1").text == "Tom's Café开业"
    _shot(driver, "article-page.png")
    driver.close()
    driver.switch_to.window(main)


# ---------------------------------------------------------------- readers and editors (issue 13)

EDITOR_PASSWORD = "browser-editor-1"


@pytest.fixture(scope="module")
def login_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The app with one editor configured: chat at /, editor pages at /editor behind the login."""
    from conftest import SEED_CORPUS, free_port
    from dadong_qa import QA, load_settings
    from dadong_qa.app.auth import hash_password
    from dadong_qa.app.server import serve

    root = tmp_path_factory.mktemp("login-app")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    (root / "corpus" / "lake.txt").write_text(LAKE_ARTICLE, encoding="utf-8")
    editors = (("alice", hash_password(EDITOR_PASSWORD)),)
    qa = QA(load_settings(corpus_dir=root / "corpus", index_dir=root / "index", editors=editors, login_delay=0.2))
    server = serve(qa, host="127.0.0.1", port=free_port(), block=False)
    try:
        yield server.local_url, qa
    finally:
        server.close()


def _pick(drv: Any, picker: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    drv.find_element(By.CSS_SELECTOR, f"#{picker} input").click()
    option = _until(
        drv,
        lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, f"#{picker} li[role=option]") if text in o.text],
        f"{text!r} is not offered in #{picker}",
    )[0]
    option.click()


def _tab(drv: Any, label: str) -> None:
    from selenium.webdriver.common.by import By

    drv.find_element(By.XPATH, f"//button[@role='tab' and contains(., '{label}')]").click()


def test_reader_sees_no_editing_and_gives_feedback(driver: Any, login_app: tuple[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    url, qa = login_app
    driver.get(url)
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#question textarea"), "the page did not load")
    assert not driver.find_elements(By.XPATH, "//button[@role='tab' and contains(., '文章管理')]")
    for control in ("upload", "add", "remove", "rebuild", "articles", "restore"):
        assert not driver.find_elements(By.ID, control), control
    _ask(driver, "青松湖湿地公园2024年接待了多少游客？")
    _ask(driver, "示例县今年新建了几座机场？")
    dislike = driver.find_elements(By.CSS_SELECTOR, "#chat button[aria-label='踩']")
    assert len(dislike) >= 2, driver.find_element(By.ID, "chat").get_attribute("innerHTML")[-2000:]
    dislike[-1].click()
    from dadong_qa.app.feedback import ReaderLog

    votes = ReaderLog(qa.settings).feedback
    _until(driver, lambda d: votes.is_file() and "机场" in votes.read_text("utf-8"), "the dislike was not stored")
    vote = json.loads(votes.read_text("utf-8").splitlines()[-1])
    assert vote["liked"] is False and vote["answered"] is False and vote["question"] == "示例县今年新建了几座机场？"
    _shot(driver, "reader.png")


def test_editor_logs_in_uploads_removes_restores_and_reads_the_report(
    driver: Any, login_app: tuple[str, Any], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    url, qa = login_app
    from gradio_client import Client

    refused = Client(url, verbose=False).predict("示例县今年新建了几座机场？", None, api_name="/ask")
    assert not refused["answered"]  # a reader's refused question, logged for the report
    driver.get(f"{url}editor/")
    password = _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]"), "no login form")[0]
    driver.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys("alice")
    password.send_keys("wrong-password")
    driver.find_element(By.XPATH, "//button[contains(., '登录')]").click()
    # Gradio's own words are Chinese whatever the browser's language (issue 21, item 14).
    _until(driver, lambda d: "凭据不正确" in d.find_element(By.TAG_NAME, "body").text, "a wrong password got in")
    _shot(driver, "editor-login-refused.png")
    for selector, text in (("input[type=text]", "alice"), ("input[type=password]", EDITOR_PASSWORD)):
        field = driver.find_element(By.CSS_SELECTOR, selector)
        field.clear()
        field.send_keys(text)
    driver.find_element(By.XPATH, "//button[contains(., '登录')]").click()
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#upload input[type=file]"), "login failed")
    upload_box = driver.find_element(By.ID, "upload").text
    assert "将文件拖放到此处" in upload_box and "Drop File Here" not in upload_box, upload_box

    article = tmp_path / "bridge.txt"
    article.write_text(BRIDGE_ARTICLE, "utf-8")
    driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(article))
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#upload [aria-label='bridge.txt']"), "no upload")
    driver.find_element(By.ID, "add").click()
    _until(driver, lambda d: "已添加" in d.find_element(By.ID, "change-report").text, "the article was not added")
    search = driver.find_element(By.CSS_SELECTOR, "#article-search textarea, #article-search input")
    search.send_keys("白沙河")
    _until(driver, lambda d: "青松湖" not in d.find_element(By.ID, "articles").text, "search did not filter")
    assert "白沙河新桥建成通车" in driver.find_element(By.ID, "articles").text
    _shot(driver, "editor-articles.png")

    _pick(driver, "remove-pick", "bridge")
    driver.find_element(By.ID, "remove").click()
    _until(driver, lambda d: d.find_element(By.ID, "remove-yes").is_displayed(), "no confirmation asked")
    _shot(driver, "editor-remove-confirm.png")
    driver.find_element(By.ID, "remove-yes").click()
    _until(driver, lambda d: "已删除：bridge" in d.find_element(By.ID, "change-report").text, "not removed")
    assert "bridge" not in qa.index.docs
    _pick(driver, "restore-pick", "bridge.txt")
    driver.find_element(By.ID, "restore").click()
    _until(driver, lambda d: "已添加：bridge" in d.find_element(By.ID, "change-report").text, "not restored")
    assert "bridge" in qa.index.docs

    # Another article under the same file name: asked, then both kept.
    other = tmp_path / "again" / "bridge.txt"
    other.parent.mkdir()
    # A different story (a near-copy of the same story would be stored once, as an alias).
    other.write_text(OTHER_BRIDGE_ARTICLE, "utf-8")
    driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(other))
    _until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#upload [aria-label='bridge.txt']"), "no upload")
    driver.find_element(By.ID, "add").click()
    _until(driver, lambda d: d.find_element(By.ID, "conflict-keep").is_displayed(), "same-name upload not asked")
    assert "白沙河新桥" in driver.find_element(By.ID, "conflict-text").text  # names the article it would replace
    _shot(driver, "editor-same-name.png")
    driver.find_element(By.ID, "conflict-keep").click()
    _until(driver, lambda d: "已添加：bridge-2" in d.find_element(By.ID, "change-report").text, "not kept both")
    docs = qa.index.docs
    assert docs["bridge"].doc.title.startswith("白沙河") and docs["bridge-2"].doc.title.startswith("青石河")

    _tab(driver, "修改记录")
    driver.find_element(By.ID, "audit-refresh").click()
    _until(driver, lambda d: "restore" in d.find_element(By.ID, "audit").text, "the audit log does not show it")
    assert "alice" in driver.find_element(By.ID, "audit").text
    _shot(driver, "editor-audit.png")

    _tab(driver, "读者反馈")
    driver.find_element(By.ID, "report-refresh").click()
    _until(driver, lambda d: "机场" in d.find_element(By.ID, "reader-report").text, "no missing topic in the report")
    _until(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#per-day-chart canvas, #per-day-chart svg"),
        "no chart drawn",
    )
    _until(driver, lambda d: "processing" not in d.find_element(By.TAG_NAME, "body").text, "the report stays busy")
    path = _shot(driver, "editor-report.png")
    assert path.stat().st_size > 10_000
