"""What readers asked and what they thought of the answers, and the editors' report on it.

Two JSONL files next to the audit log, written only when `Settings.reader_log` is on:
- questions.jsonl: each question the chat or /ask answered or refused (the question text,
  answered or not, the cited doc_ids, the channel), to know what the articles miss;
- feedback.jsonl: each thumbs up / down in the chat (question, the answer's doc_ids, whether it
  was a refusal, liked or not).
No IP address, session, user name or browser data is stored.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dadong_qa.audit import append_line, log_dir, now_iso, read_lines
from dadong_qa.config import Settings
from dadong_qa.schema import Answer
from dadong_qa.text import vocab_words

QUESTIONS_FILE = "questions.jsonl"
FEEDBACK_FILE = "feedback.jsonl"
_TOPICS = 15  # missing topics shown
_EXAMPLES = 5  # refused questions listed per topic
_DISLIKED = 50
# Counting and relative-time words say how a question asks, not what about: never a topic.
_NOT_TOPIC = re.compile(r"几|多少|今年|去年|明年|前年|目前|现在|最近|哪年|哪些")


@dataclass(frozen=True)
class Turn:
    """One answered (or refused) question, as the like/dislike buttons need it."""

    question: str
    doc_ids: tuple[str, ...]
    refused: bool


def turn_of(answer: Answer) -> Turn:
    return Turn(answer.question or "", tuple(dict.fromkeys(c.doc_id for c in answer.citations)), not answer.answered)


class ReaderLog:
    """Appends questions and feedback (when enabled) and reads them back for the report."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.reader_log
        folder = log_dir(settings)
        self.questions = folder / QUESTIONS_FILE
        self.feedback = folder / FEEDBACK_FILE

    def question(self, turn: Turn, channel: str) -> None:
        if self.enabled:
            append_line(self.questions, {"time": now_iso(), **_turn_dict(turn), "channel": channel})

    def vote(self, turn: Turn, liked: bool) -> None:
        if self.enabled:
            append_line(self.feedback, {"time": now_iso(), **_turn_dict(turn), "liked": liked})


def _turn_dict(turn: Turn) -> dict[str, Any]:
    return {"question": turn.question, "answered": not turn.refused, "doc_ids": list(turn.doc_ids)}


def _since(records: list[dict[str, Any]], since: date | None) -> list[dict[str, Any]]:
    if since is None:
        return records
    return [r for r in records if str(r.get("time", ""))[:10] >= since.isoformat()]


def topic_words(question: str) -> set[str]:
    """The words of a question that name what it is about: content words, no counting or time
    words ("几座", "今年"), and no word inside a longer one of the same question ("示例" in "示例县")."""
    found = {w for w in vocab_words(question) if not _NOT_TOPIC.search(w)}
    return {w for w in found if not any(w != other and w in other for other in found)}


def missing_topics(refused: list[str], limit: int = _TOPICS) -> list[dict[str, Any]]:
    """Refused questions grouped by their content words, the most frequent word first."""
    by_word: dict[str, list[str]] = defaultdict(list)
    for q in refused:
        for w in sorted(topic_words(q)):
            by_word[w].append(q)
    ranked = sorted(by_word.items(), key=lambda kv: (-len(set(kv[1])), kv[0]))[:limit]
    return [{"word": w, "count": len(set(qs)), "questions": list(dict.fromkeys(qs))[:_EXAMPLES]} for w, qs in ranked]


def report(settings: Settings, since: date | None = None) -> dict[str, Any]:
    """Counts per day, the topics refused questions are about, and the disliked answers."""
    log = ReaderLog(settings)
    questions = _since(read_lines(log.questions), since)
    votes = _since(read_lines(log.feedback), since)
    days: dict[str, Counter[str]] = defaultdict(Counter)
    for r in questions:
        days[str(r.get("time", ""))[:10]]["answered" if r.get("answered") else "refused"] += 1
    for r in votes:
        days[str(r.get("time", ""))[:10]]["liked" if r.get("liked") else "disliked"] += 1
    per_day = [
        {"day": d, **{k: c[k] for k in ("answered", "refused", "liked", "disliked")}} for d, c in sorted(days.items())
    ]
    refused = [str(r.get("question", "")) for r in questions if not r.get("answered")]
    disliked = [r for r in votes if not r.get("liked")][-_DISLIKED:]
    return {
        "since": since.isoformat() if since else None,
        "reader_log": settings.reader_log,
        "totals": {
            "questions": len(questions),
            "refused": len(refused),
            "liked": sum(1 for r in votes if r.get("liked")),
            "disliked": sum(1 for r in votes if not r.get("liked")),
        },
        "per_day": per_day,
        "missing_topics": missing_topics(refused),
        "disliked": list(reversed(disliked)),
    }


def format_report(data: dict[str, Any]) -> str:
    """The report as plain text for the terminal (`dadong-qa report`)."""
    t = data["totals"]
    lines = [
        f"questions: {t['questions']}  refused: {t['refused']}  liked: {t['liked']}  disliked: {t['disliked']}"
        + (f"  (since {data['since']})" if data["since"] else ""),
    ]
    if not data["reader_log"]:
        lines.append("(reader_log is off: no new questions or feedback are being recorded)")
    lines.append("\nper day (answered / refused / liked / disliked):")
    lines.extend(
        f"  {d['day']}  {d['answered']} / {d['refused']} / {d['liked']} / {d['disliked']}" for d in data["per_day"]
    )
    lines.append("\nmissing topics (content words of refused questions):")
    for topic in data["missing_topics"]:
        lines.append(f"  {topic['word']} ×{topic['count']}: " + " | ".join(topic["questions"]))
    lines.append("\ndisliked answers:")
    for r in data["disliked"]:
        kind = "refusal" if not r.get("answered") else ",".join(r.get("doc_ids") or []) or "-"
        lines.append(f"  {str(r.get('time', ''))[:16]}  {r.get('question', '')}  [{kind}]")
    return "\n".join(lines)


def reader_files(settings: Settings) -> tuple[Path, Path]:
    log = ReaderLog(settings)
    return log.questions, log.feedback
