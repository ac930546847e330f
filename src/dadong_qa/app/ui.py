"""The chat web app: questions with streamed, cited answers, and a tab to manage the articles.

One `QA` object serves every user of the process: its index is loaded once, and corpus
changes swap in a complete new index version, so a question never reads a half-written one.
Writes (upload, remove, rebuild) run one at a time; questions run `Settings.concurrency` at
a time.

Everything shown comes from article files or from users, so it is escaped before it reaches
the page (`esc`): article text can never inject HTML or Markdown.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from dadong_qa.api import QA, QuestionError
from dadong_qa.app.auth import EditMode
from dadong_qa.app.chat_render import answer_messages, esc, render_draft
from dadong_qa.app.editor_ui import editor_tabs
from dadong_qa.app.feedback import ReaderLog, Turn, turn_of
from dadong_qa.app.ratelimit import RateLimited, RateLimiter
from dadong_qa.app.ui_common import TITLE, UPLOAD_CACHE
from dadong_qa.index import IndexStoreError
from dadong_qa.retrieval.rewrite import user_questions
from dadong_qa.schema import Answer

log = logging.getLogger(__name__)

INTERNAL_ERROR = "内部错误，这个问题暂时无法回答；请换个问法再试（internal error, logged on the server）。"

# Streaming: the answer is shown a few characters at a time, so a long answer starts
# appearing at once instead of after the whole message is ready.
_STREAM_CHARS = 6
_STREAM_PAUSE = 0.02


# ---------------------------------------------------------------- chat


def _plain_history(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The user's earlier questions as plain text (the chat shows them escaped)."""
    return [(html.unescape(q), "") for q in user_questions(history)]


def chat_stream(
    qa: QA, message: str, history: list[dict[str, Any]], on_answer: Callable[[Answer], None] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Chat states for one question: the question, a searching note, the growing answer, the sources.

    A generative backend's drafts are shown as they are written; the extractive answer, which
    comes whole, is revealed a few characters at a time. `on_answer` gets the final Answer.
    """
    history = list(history or [])
    question = (message or "").strip()
    if not question:
        yield history
        return
    # An over-long question is sent on and refused with the API's message; only its start is echoed.
    limit = qa.settings.max_question_chars
    echo = question if len(question) <= limit else question[:limit] + "……"
    shown = [*history, {"role": "user", "content": esc(echo)}]
    yield [*shown, {"role": "assistant", "content": "🔎 正在检索资料……"}]
    drafted = False
    try:
        for item in qa.ask_stream(question, history=_plain_history(history)):
            if isinstance(item, Answer):
                answer = item
            else:
                drafted = True
                yield [*shown, {"role": "assistant", "content": render_draft(item)}]
    except (QuestionError, IndexStoreError) as exc:
        yield [*shown, {"role": "assistant", "content": f'<div class="dq-error">⚠️ {esc(exc)}</div>'}]
        return
    except Exception:  # a bug must not break the chat: say so, keep the details in the server log
        log.exception("answering %r failed", question)
        yield [*shown, {"role": "assistant", "content": f'<div class="dq-error">⚠️ {INTERNAL_ERROR}</div>'}]
        return
    if on_answer is not None:
        on_answer(answer)
    if not drafted:
        for upto in range(_STREAM_CHARS, len(answer.text), _STREAM_CHARS):
            yield [*shown, *answer_messages(answer, upto)]
            time.sleep(_STREAM_PAUSE)
    yield [*shown, *answer_messages(answer)]


# ---------------------------------------------------------------- the app


def _like_turn(turns: dict[int, Turn], index: Any) -> Turn | None:
    """The question behind a liked message: its answer bubble or the sources bubble after it."""
    i = index[0] if isinstance(index, list | tuple) else index
    return turns.get(int(i)) or turns.get(int(i) - 1)


def build_app(qa: QA, mode: EditMode = EditMode.OPEN) -> gr.Blocks:
    """The Gradio app over `qa`: the chat and /ask for readers, plus the editor tabs in OPEN mode.

    Launch it with server.serve (which adds the styles, the queue and, in LOGIN mode, the editor app).
    """
    settings = qa.settings
    limiter = RateLimiter(settings.rate_limit)
    reader_log = ReaderLog(settings)

    def respond(
        message: str, history: list[dict[str, Any]], turns: dict[int, Turn], request: gr.Request
    ) -> Iterator[tuple[list[dict[str, Any]], str, dict[int, Turn]]]:
        turns = dict(turns or {})
        # Per address, as /ask: a script can send each question with a new random Gradio
        # session_hash, but not from a new address.
        refused = over_limit(limiter, _client_address(request), message, history)
        if refused is not None:
            yield refused, "", turns
            return

        def record(answer: Answer) -> None:
            turn = turn_of(answer)
            turns[len(history or []) + 1] = turn  # the answer bubble follows the question
            _log_question(reader_log, turn, "chat")

        for state in chat_stream(qa, message, history, on_answer=record):
            yield state, "", turns

    def vote(turns: dict[int, Turn], data: gr.LikeData) -> None:
        turn = _like_turn(turns or {}, data.index)
        if turn is not None and isinstance(data.liked, bool):
            reader_log.vote(turn, data.liked)

    def ask(question: str, history: list | None = None, request: gr.Request | None = None) -> dict:
        """Answer a question from the articles; `history` (optional) is the conversation so far
        ([{"role", "content"}] messages or [question, answer] pairs). Returns the Answer as JSON."""
        try:
            limiter.check(_client_address(request))
            answer = qa.ask(question, history=history)
        except (QuestionError, RateLimited) as exc:
            # A reader's mistake or the rate limit, not a fault of the server: the caller gets the
            # message, the log one line (Gradio would print the whole traceback to stderr).
            log.info("/ask refused: %s", exc)
            raise gr.Error(str(exc), print_exception=False) from exc
        _log_question(reader_log, turn_of(answer), "api")
        return answer.to_dict()

    # UPLOAD_CACHE: the open loopback app takes uploads in its articles tab.
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True, **UPLOAD_CACHE) as app:
        gr.Markdown(f"## {TITLE}\n根据已收录的新闻文章回答问题，答案逐句引用原文；资料中没有的内容会直说没有。")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chatbot = gr.Chatbot(
                    label="对话",
                    elem_id="chat",
                    height="62vh",
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike") if settings.reader_log else None,
                    placeholder="可以追问，例如先问某一年的数字，再问“那下一年呢？”",
                    # Gradio's copy buttons copy a message's HTML source: each answer has its own
                    # plain-text copy button instead (chat_render.PAGE_SCRIPT).
                    buttons=[],
                )
                turns = gr.State({})
                with gr.Row():
                    box = gr.Textbox(
                        show_label=False,
                        placeholder="输入问题，回车发送",
                        elem_id="question",
                        scale=8,
                        max_lines=4,
                    )
                    send = gr.Button("发送", variant="primary", elem_id="send", scale=1, min_width=80)
                    clear = gr.Button("清空对话", elem_id="clear", scale=1, min_width=80)
                    copy_all = gr.Button("复制全部对话", elem_id="copy-all", scale=1, min_width=80)
                examples = (
                    gr.Examples(examples=[[q] for q in settings.examples], inputs=[box], label="示例问题")
                    if settings.examples
                    else None
                )
                if mode is EditMode.LOGIN:
                    gr.Markdown("编辑请从 [文章管理（需登录）](/editor/) 进入。", elem_id="editor-link")
            if mode is EditMode.OPEN:
                editor_tabs(qa)

        chat_io = {
            "fn": respond,
            "inputs": [box, chatbot, turns],
            "outputs": [chatbot, box, turns],
            "api_visibility": "private",
        }
        box.submit(**chat_io)
        send.click(**chat_io)
        if examples is not None:  # a click on an example asks it
            examples.load_input_event.then(**chat_io)
        clear.click(lambda: ([], "", {}), outputs=[chatbot, box, turns], api_visibility="private", queue=False)
        copy_all.click(None, js="() => window.dqCopyConversation()", api_visibility="private", queue=False)
        chatbot.like(vote, inputs=[turns], outputs=None, api_visibility="private", queue=False)
        gr.api(ask, api_name="ask")
    return app


def over_limit(
    limiter: RateLimiter, client: str, message: str, history: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    """The chat with the rate-limit message if `client` asked too often, else None (and counted)."""
    if not (message or "").strip():
        return None
    try:
        limiter.check(client)
    except RateLimited as exc:
        shown = [*(history or []), {"role": "user", "content": esc(message.strip())}]
        return [*shown, {"role": "assistant", "content": f'<div class="dq-error">⚠️ {esc(exc)}</div>'}]
    return None


def _client_address(request: gr.Request | None) -> str:
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


def _log_question(reader_log: ReaderLog, turn: Turn, channel: str) -> None:
    try:
        reader_log.question(turn, channel)
    except OSError:  # a full disk must not cost the reader the answer
        log.exception("could not write the questions log")
