"""A deterministic synthetic news corpus of any size, made by varying the seed corpus's sentences.

Sentences of the seed articles are recombined into new articles, with their districts, numbers,
years and dates replaced at random, so the text reads like the real corpus (same vocabulary
and sentence shapes) while every article differs. Some articles carry a planted fact: a sentence
that exists nowhere else, with a question whose answer is known, to measure recall at scale.
Same seed, same size -> the same files.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.ingestion.chunk import split_sentences  # noqa: E402
from dadong_qa.ingestion.ingest import corpus_files, read_file  # noqa: E402

DISTRICTS = (
    "大东区 和平区 沈河区 皇姑区 铁西区 浑南区 于洪区 苏家屯区 沈北新区 辽中区 "
    "中山区 西岗区 沙河口区 甘井子区 旅顺口区 金州区 铁东区 立山区 千山区 平山区"
).split()
SURNAMES = "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗".split()
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 华 建 国".split()
PRODUCTS = "智能机器人 新能源电池 数控机床 工业软件 医疗器械 无人机 传感器 光伏组件 储能设备 汽车零部件".split()
UNITS = "台 套 件 个 批".split()
_DISTRICT = re.compile(r"(大东区|和平区|沈河区|皇姑区|铁西区|浑南区|于洪区|苏家屯区|沈北新区)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_YEAR = re.compile(r"20\d\d年")
# Each synthetic article has about this many sentences: ~27.5 chunks of 3 sentences with overlap 1.
SENTENCES_PER_ARTICLE = 60
CHUNKS_PER_ARTICLE = 27.5


@dataclass(frozen=True)
class Planted:
    """A fact that occurs in exactly one article, and the question that asks for it."""

    doc_file: str
    question: str
    answer: str
    sentence: str


def seed_sentences(corpus: Path = ROOT / "corpus") -> list[str]:
    out = []
    for path in corpus_files(corpus):
        doc = read_file(path)
        out += [doc.text[s:e] for s, e in split_sentences(doc.text) if len(doc.text[s:e]) >= 8]
    if not out:
        raise SystemExit(f"no sentences in {corpus}: the generator varies the seed corpus")
    return out


def _vary(sentence: str, rng: random.Random, district: str) -> str:
    s = _DISTRICT.sub(lambda m: district if rng.random() < 0.8 else rng.choice(DISTRICTS), sentence)
    s = _YEAR.sub(lambda m: f"{rng.randint(2015, 2025)}年", s)

    def number(m: re.Match[str]) -> str:
        v = m.group(0)
        if "." in v:
            return f"{rng.uniform(0.1, 99.9):.1f}"
        return str(rng.randint(1, max(9, 10 ** len(v) - 1)))

    return _NUMBER.sub(number, s)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def article(rng: random.Random, pool: list[str], n: int, planted: Planted | None = None) -> tuple[str, str]:
    """(file text, title) of one article."""
    district = rng.choice(DISTRICTS)
    year, month, day = rng.randint(2015, 2025), rng.randint(1, 12), rng.randint(1, 28)
    title = f"{district}{rng.choice(PRODUCTS)}产业观察之{n}"
    sentences = [_vary(rng.choice(pool), rng, district) for _ in range(SENTENCES_PER_ARTICLE)]
    if planted is not None:
        sentences.insert(rng.randint(0, len(sentences)), planted.sentence)
    paragraphs = []
    i = 0
    while i < len(sentences):
        k = rng.randint(2, 5)
        lead = f"记者{_name(rng)}报道，" if rng.random() < 0.3 else ""
        paragraphs.append(lead + "".join(sentences[i : i + k]))
        i += k
    head = f"{title}-合成新闻网\n\n来源: {year}-{month:02d}-{day:02d} 09:00\n\n"
    return head + "\n\n".join(paragraphs) + "\n", title


def planted_fact(rng: random.Random, n: int) -> tuple[str, str, str]:
    """(sentence, question, answer) of a fact no other article states."""
    company = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice('科技 智造 电子 精工'.split())}公司"
    product = rng.choice(PRODUCTS)
    count = rng.randint(1000, 99999)
    unit = rng.choice(UNITS)
    model = f"{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}-{n}"
    sentence = f"{company}研发的{model}型{product}累计交付{count}{unit}。"
    return sentence, f"{company}研发的{model}型{product}累计交付了多少{unit}？", str(count)


def generate(folder: Path, chunks: int, seed: int = 7, planted: int = 20) -> list[Planted]:
    """Write about `chunks` chunks' worth of articles into `folder`; return the planted facts."""
    rng = random.Random(seed)
    pool = seed_sentences()
    folder.mkdir(parents=True, exist_ok=True)
    n_articles = max(1, round(chunks / CHUNKS_PER_ARTICLE))
    hosts = set(rng.sample(range(n_articles), min(planted, n_articles)))
    facts = []
    for n in range(n_articles):
        fact = None
        if n in hosts:
            sentence, question, answer = planted_fact(rng, n)
            fact = Planted(f"syn_{n:06d}.txt", question, answer, sentence)
            facts.append(fact)
        text, _ = article(rng, pool, n, fact)
        (folder / f"syn_{n:06d}.txt").write_text(text, encoding="utf-8")
    return facts


def extra_article(folder: Path, seed: int, n: int) -> tuple[Path, Planted]:
    """One more article (not in the corpus) with a planted fact, for timing `add`."""
    rng = random.Random(seed * 1_000_003 + n)
    sentence, question, answer = planted_fact(rng, 900_000 + n)
    path = folder / f"extra_{n:04d}.txt"
    fact = Planted(path.name, question, answer, sentence)
    text, _ = article(rng, seed_sentences(), 900_000 + n, fact)
    path.write_text(text, encoding="utf-8")
    return path, fact


def latency_questions(seed: int = 11, n: int = 40) -> list[str]:
    """A fixed list of questions in the corpus's style, for timing `ask()`."""
    rng = random.Random(seed)
    topics = "地区生产总值 一般公共预算收入 固定资产投资 工业增加值 老旧小区改造 重大项目 产业园区 营商环境".split()
    shapes = ("{d}{y}年的{t}是多少？", "{d}在{t}方面做了哪些工作？", "{y}年{d}{t}增长了多少？", "{d}{t}排名第几？")
    return [
        rng.choice(shapes).format(d=rng.choice(DISTRICTS), y=rng.randint(2015, 2025), t=rng.choice(topics))
        for _ in range(n)
    ]


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("folder", type=Path)
    p.add_argument("--chunks", type=int, default=1000)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    for f in generate(a.folder, a.chunks, a.seed):
        print(f.doc_file, f.question, f.answer)
