"""Near-duplicate articles: one story republished with small edits is stored once, with aliases."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from conftest import LIBRARY_ARTICLE
from dadong_qa import QA, load_settings
from dadong_qa.app.cli import main
from dadong_qa.ingestion.ingest import read_bytes
from dadong_qa.ingestion.near_dup import fold_near_copies, signature, similarity

PARAGRAPHS = [
    "示例县跨河大桥于5月1日正式建成通车，大桥全长860米，双向六车道，总投资4.6亿元。",
    "大桥自2022年3月开工建设，历时26个月，施工期间克服了汛期施工、深水基础等多项技术难题。",
    "通车后，河两岸的通行时间由原来的40分钟缩短至8分钟，每天可分流过境车辆约2.1万辆次。",
    "县交通运输局负责人介绍，大桥两侧设有人行道和非机动车道，并配套建设了夜景照明工程。",
    "下一步，示例县将继续推进城北路网建设，计划年内再打通断头路5条，进一步完善城市交通体系。",
]


def story(title: str, source: str, paragraphs: list[str]) -> str:
    return f"{title}\n\n2025-05-02  来源：{source}\n\n" + "\n\n".join(paragraphs) + "\n"


def near_copies() -> dict[str, str]:
    reordered = PARAGRAPHS[:]
    random.Random(3).shuffle(reordered)
    return {
        "bridge_a.txt": story("示例县跨河大桥正式通车", "示例日报", PARAGRAPHS),
        # another site, another first line
        "bridge_b.txt": story(
            "示例县跨河大桥通车啦",
            "示例新闻网",
            ["本网讯 记者获悉，示例县跨河大桥已于5月1日建成通车，总投资4.6亿元。", *PARAGRAPHS[1:]],
        ),
        "bridge_c.txt": story("跨河大桥建成通车", "某某资讯平台", reordered),  # paragraphs reordered
    }


# Same bridge, written independently: must stay a separate article.
OTHER_BRIDGE = story(
    "跨河大桥通车首日见闻",
    "示例晚报",
    [
        "通车首日清晨，不少市民早早来到跨河大桥桥头，拍照留念，体验新桥带来的便利。",
        "家住河北岸的王先生说，以前上班要绕行老桥，遇上早高峰常常堵车，现在过桥只要几分钟。",
        "桥下的滨河公园同步开放，傍晚时分，散步、骑行的市民络绎不绝，夜景灯光吸引了众多游客。",
    ],
)


def test_near_copies_fold_into_one_and_other_articles_stay():
    docs = [read_bytes(text.encode(), name) for name, text in near_copies().items()]
    docs.append(read_bytes(OTHER_BRIDGE.encode(), "bridge_other.txt"))
    kept, notes = fold_near_copies(docs, threshold=0.7)
    assert [d.doc_id for d in kept] == ["bridge_a", "bridge_other"]
    assert len(kept[0].aliases) == 2 and kept[0].alias_paths == ["bridge_b.txt", "bridge_c.txt"]
    assert any("示例新闻网" in a for a in kept[0].aliases) and not kept[1].aliases
    assert len(notes) == 2 and "bridge_a" in notes[0]
    assert similarity(signature(docs[0].text), signature(docs[3].text)) < 0.2


def test_build_stores_the_story_once_and_cites_its_other_sources(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in near_copies().items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "bridge_other.txt").write_text(OTHER_BRIDGE, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    report = qa.build()
    assert set(qa.index.docs) == {"bridge_a", "bridge_other"} and len(report.notes) == 2
    a = qa.ask("示例县跨河大桥全长多少米？")
    assert a.answered and "860米" in a.text
    assert a.citations[0].doc_id == "bridge_a" and len(a.citations[0].aliases) == 2
    assert not qa.pending()  # the copies count as known files: sync leaves them alone
    fresh = QA(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    assert fresh.index.docs["bridge_a"].doc.aliases == qa.index.docs["bridge_a"].doc.aliases


def test_add_folds_a_near_copy_into_the_indexed_article(tmp_path: Path, capsys: pytest.CaptureFixture):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    copies = near_copies()
    (corpus / "bridge_a.txt").write_text(copies["bridge_a.txt"], encoding="utf-8")
    (corpus / "library.txt").write_text(LIBRARY_ARTICLE, encoding="utf-8")
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    assert main([*where, "build"]) == 0
    incoming = tmp_path / "in"
    incoming.mkdir()
    for name in ("bridge_b.txt", "bridge_c.txt"):
        (incoming / name).write_text(copies[name], encoding="utf-8")
    capsys.readouterr()
    assert main([*where, "add", str(incoming / "bridge_b.txt"), str(incoming / "bridge_c.txt")]) == 0
    out = capsys.readouterr().out
    assert out.count("note:") == 2 and "added:" not in out
    qa = QA(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    assert set(qa.index.docs) == {"bridge_a", "library"}
    assert qa.index.docs["bridge_a"].doc.alias_paths == ["bridge_b.txt", "bridge_c.txt"]
    assert (corpus / "bridge_b.txt").is_file()  # kept, so a rebuild folds it again
    version = qa.index.version
    assert main([*where, "add", str(incoming / "bridge_b.txt")]) == 0  # the same copy again: nothing new
    assert qa.index.version == version
    assert main([*where, "build"]) == 0
    assert set(qa.index.docs) == {"bridge_a", "library"} and len(qa.index.docs["bridge_a"].doc.aliases) == 2


def as_html(text: str) -> str:
    title, *paragraphs = [p for p in text.split("\n") if p.strip()]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


def test_another_article_under_an_existing_name_does_not_replace_it(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first = as_html(near_copies()["bridge_a.txt"])
    (corpus / "index.html").write_text(first, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    qa.build()
    other = tmp_path / "site2" / "index.html"
    other.parent.mkdir()
    other.write_text(as_html(LIBRARY_ARTICLE), encoding="utf-8")
    report = qa.add([other])
    assert len(report.added) == 1 and report.added[0].startswith("index_") and report.notes
    assert set(qa.index.docs) == {"index", report.added[0]}
    assert (corpus / "index.html").read_text(encoding="utf-8") == first
    edited = tmp_path / "site1" / "index.html"  # a new version of the first article still replaces it
    edited.parent.mkdir()
    edited.write_text(first.replace("860米", "862米"), encoding="utf-8")
    assert qa.add([edited]).replaced == ["index"]
