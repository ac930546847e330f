"""Multi-part questions: each part answered on its own, then one answer that says which are missing.

"大东区2022年地区生产总值和一般公共预算收入分别是多少？" asks two things. Answered as one
question, the sentence that covers one part wins and the other part is dropped without a word.
Here parts.split_question splits it, each part is retrieved and answered (or refused) as a
question of its own, and the answers are joined: the citations renumbered into one list (a
sentence that answers two parts is cited once), `Answer.parts` recording which citation answers
which part, and "部分回答" with the missing parts named when the sources answer only some.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dadong_qa.answering.answer import CONFLICT_PREFIX, ExtractiveAnswerer
from dadong_qa.answering.parts import split_question
from dadong_qa.retrieval.retrieve import Retrieval
from dadong_qa.schema import Answer, AnswerPart, Citation, Conflict

PARTIAL_PREFIX = "部分回答："
MISSING_TEMPLATE = "资料中没有找到：{parts}。"


def answer_question(
    answerer: ExtractiveAnswerer, retrieve: Callable[[str], Retrieval], question: str, retrieval: Retrieval
) -> Answer:
    """The answer to `question`, part by part when it asks several things."""
    parts = split_question(question)
    if len(parts) < 2 or retrieval.query.small_talk is not None:
        return answerer.answer(question, retrieval)
    answers = [answerer.answer(part, retrieve(part)) for part in parts]
    if not any(a.answered for a in answers):
        return answerer.refusal(question, retrieval, max(a.confidence for a in answers))
    return join(question, parts, answers, retrieval)


def join(question: str, parts: list[str], answers: list[Answer], retrieval: Retrieval) -> Answer:
    """One answer from the parts' answers (at least one of them answered)."""
    citations: list[Citation] = []
    records: list[AnswerPart] = []
    texts: list[str] = []
    for part, answer in zip(parts, answers, strict=True):
        shown = len(citations)
        numbers = [_number(citations, c) for c in answer.citations]
        records.append(AnswerPart(part, answer.answered, answer.short, numbers, answer.period))
        # the part's sentences not shown for an earlier part, each with its number in the joined list
        texts += [f"{c.sentence}[{n}]" for c, n in zip(answer.citations, numbers, strict=True) if n > shown]
    missing = [r.question.rstrip("？?。") for r in records if not r.answered]
    text = "".join(texts)
    if missing:
        text = PARTIAL_PREFIX + text + MISSING_TEMPLATE.format(parts="；".join(missing))
    conflict = next((a.conflict for a in answers if a.conflict), None)
    if conflict:
        text = CONFLICT_PREFIX + text
    return Answer(
        text=text,
        answered=True,
        citations=citations,
        passages=retrieval.passages,
        question=question,
        short=None,  # each part has its own (AnswerPart.short); no one span answers them all
        conflict=_renumbered_conflict(conflict, answers, citations),
        confidence=min(a.confidence for a in answers if a.answered),
        parts=records,
        notes=[f"问题分为 {len(parts)} 部分分别回答" + (f"，其中 {len(missing)} 部分资料中没有" if missing else "")],
    )


def _number(citations: list[Citation], citation: Citation) -> int:
    """The citation's number in the joined list (from 1), adding it unless already cited."""
    for n, c in enumerate(citations, 1):
        if c.sentence_id == citation.sentence_id and c.doc_id == citation.doc_id:
            return n
    citations.append(citation)
    return len(citations)


def _renumbered_conflict(
    conflict: Conflict | None, answers: list[Answer], citations: list[Citation]
) -> Conflict | None:
    """The first part's conflict with its claims' numbers in the joined citation list."""
    if not conflict:
        return None
    owner = next(a for a in answers if a.conflict is conflict)
    claims = [
        replace(c, citation=_number(citations, owner.citations[c.citation - 1])) if c.citation else c
        for c in conflict.claims
    ]
    return replace(conflict, claims=claims)
