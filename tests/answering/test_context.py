"""The neighbours cited beside an answer sentence (answering/context.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dadong_qa.answering.context import Context, ContextFinder
from dadong_qa.ingestion.chunk import split_sentences
from dadong_qa.retrieval.query import parse
from dadong_qa.schema import Document, Sentence


@dataclass
class ParagraphStore:
    """Sentences at their real offsets in one article whose paragraphs are lines."""

    text: str
    doc: Document = field(init=False)
    sentences: dict[int, Sentence] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.doc = Document("d", "标题", self.text)
        for sid, (start, end) in enumerate(split_sentences(self.text)):
            self.sentences[sid] = Sentence(sid, "d", start, end, self.text[start:end])

    def doc_meta(self, doc_id: str) -> Document:
        return self.doc

    def doc_sentence_ids(self, doc_id: str) -> list[int]:
        return list(self.sentences)

    def sid_of(self, start: str) -> int:
        return next(s.sid for s in self.sentences.values() if s.text.startswith(start))


ARTICLE = (
    "次磷酸可以将碘还原为氢碘酸，氢碘酸可以制成冰毒。因此，次磷酸被列为易制毒化学品，购买受到严格管制。"
    "次磷酸的管制由缉毒署执行。\n"
    "扁掌龙以头足类为食。体型较大的扁掌龙也以小型爬行动物为食。扁掌龙生活在侏罗纪。\n"
    "乡里制的职能有四个方面：一是教化；二是管理户籍；三是维护治安。乡里制在唐末瓦解。\n"
    "新罗王派一万人支援百济，但为时已晚。百济首都被攻陷。"
)
WEIGHTS = {"次磷酸": 3.0, "管制": 2.0, "扁掌龙": 3.0, "为食": 2.0, "新罗王": 3.0, "支援": 2.0}


def around(question: str, start: str) -> list[str]:
    store = ParagraphStore(ARTICLE)
    sid = store.sid_of(start)
    weights = {t: w for t, w in WEIGHTS.items() if t in question}
    found = ContextFinder(store).around(parse(question), sid, weights)
    return [store.sentences[s].text for s in (*found.before, sid, *found.after)]


def test_a_sentence_that_points_back_brings_the_sentence_before():
    cited = around("为什么次磷酸的购买受到严格管制？", "因此")
    assert cited[0].startswith("次磷酸可以将碘还原") and cited[1].startswith("因此")


def test_a_why_question_brings_the_next_sentence_only_when_it_speaks_of_what_was_asked():
    # "次磷酸的管制由缉毒署执行" holds 次磷酸 and 管制, all the question's weight: it carries it on.
    assert around("为什么次磷酸的购买受到严格管制？", "因此")[-1].startswith("次磷酸的管制")
    # The next sentence holds nothing the question asks about: it stays out.
    assert around("新罗王的支援为什么为时已晚？", "新罗王") == ["新罗王派一万人支援百济，但为时已晚。"]
    # Nor does one that names only the subject (0.6 of the weight, one term).
    store = ParagraphStore("因此，次磷酸被列为易制毒化学品。次磷酸是一种无色油状液体。")
    found = ContextFinder(store).around(parse("为什么次磷酸受到管制？"), 0, {"次磷酸": 3.0, "管制": 2.0})
    assert found == Context()


def test_a_which_question_gets_the_next_sentence_of_its_list():
    assert around("扁掌龙以哪些动物为食？", "扁掌龙以")[-1].startswith("体型较大")


def test_a_factoid_question_keeps_the_sentence_alone():
    assert around("扁掌龙以什么为食？", "扁掌龙以") == ["扁掌龙以头足类为食。"]
    assert around("次磷酸被列为什么化学品？", "因此") == ["因此，次磷酸被列为易制毒化学品，购买受到严格管制。"]


def test_pieces_a_semicolon_cut_are_the_rest_of_the_written_sentence():
    cited = around("乡里制有哪些职能？", "乡里制的职能")
    assert cited == ["乡里制的职能有四个方面：一是教化；", "二是管理户籍；", "三是维护治安。"]


def test_parallel_clauses_about_other_things_stay_out():
    store = ParagraphStore("改造后的小区里，健身广场一应俱全；在项目施工现场，机械轰鸣；在各大产业园区，项目落地。")
    found = ContextFinder(store).around(parse("改造后的小区有什么设施？"), 0, {"小区": 3.0, "设施": 2.0})
    assert found == Context()


def test_neighbours_never_cross_a_paragraph():
    store = ParagraphStore("甲城建于唐代。\n因此乙城也建于唐代。\n此外，丙城建于宋代。")
    found = ContextFinder(store).around(parse("乙城为什么建于唐代？"), 1, {"乙城": 3.0, "唐代": 2.0})
    assert found == Context()


def test_a_sentence_that_carries_on_joins_an_explanation_but_not_a_factoid():
    store = ParagraphStore("产妇症状为呼吸困难及低血压。不久进入昏迷状态。此外，心率下降。")
    weights = {"产妇": 3.0, "症状": 2.0}
    found = ContextFinder(store).around(parse("产妇有哪些症状？"), 0, weights)
    assert found.after == (1,)  # "不久…" carries it on; "此外…" is two sentences away
    assert ContextFinder(store).around(parse("产妇症状是什么？"), 0, weights) == Context()


def test_the_cited_order_puts_the_neighbours_around_the_first_sentence():
    assert Context(before=(4,), after=(6, 7)).cited([5, 9, 7]) == [4, 5, 6, 7, 9]
    assert Context().cited([5, 9]) == [5, 9]
