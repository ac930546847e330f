"""The seed articles plus a second outlet's reprint of one of their paragraphs: news is syndicated,
and a fact stated twice must be answered as surely as a fact stated once (answering/agreement.py),
without a conflict between the two copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SEED_CORPUS
from dadong_qa import QA, load_settings

# Another outlet's article (its own title, date, lead and close) reprinting a paragraph, with
# full-width punctuation where the seed article has ASCII.
REPRINT = (
    "大东区经济运行稳中向好\n\n来源：沈阳晚报 2023-01-05\n\n"
    "记者从大东区统计部门获悉，2022年全区经济运行总体平稳。"
    "预计实现地区生产总值940亿元，同比增长6%；规上工业增加值580.3亿元，同比增长7.1%；"
    "一般公共预算收入112.1亿元，同比增长15.2%；社会消费品零售总额286.5亿元，同比增长3%，主要经济指标增速位居全市前列。\n\n"
    "下一步，大东区将继续推动重点项目建设。\n"
)


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    root: Path = tmp_path_factory.mktemp("reprint")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    (root / "corpus" / "reprint.txt").write_text(REPRINT, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=root / "corpus", index_dir=root / "index"))
    qa.build()
    return qa


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("大东区一般公共预算收入是多少？", "112.1亿元"),
        ("大东区规上工业增加值是多少？", "580.3亿元"),
        ("大东区社会消费品零售总额是多少？", "286.5亿元"),
    ],
)
def test_a_reprinted_figure_is_answered_once_without_a_conflict(qa: QA, question: str, short: str):
    a = qa.ask(question)
    assert a.answered and a.short == short and a.confidence >= 0.9
    assert not a.conflict and len({c.sentence for c in a.citations}) == len(a.citations)
