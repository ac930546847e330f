"""Speed and yield of figure reading (figures.py) and the conflict check (conflict.py) on a corpus.

    python bench/figures.py [CORPUS_DIR]

Reads every article of CORPUS_DIR (default: corpus/), splits it into sentences, reads the
figures of each sentence with its article's date and context period, then looks for conflicts
among all of them. Prints sentences, figures, conflicts and milliseconds per sentence.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.answering.conflict import SourcedFigure, find_conflicts  # noqa: E402
from dadong_qa.answering.figures import figures  # noqa: E402
from dadong_qa.answering.periods import context_periods  # noqa: E402
from dadong_qa.ingestion.chunk import split_sentences  # noqa: E402
from dadong_qa.ingestion.ingest import corpus_files, read_file  # noqa: E402
from dadong_qa.text import warm_up  # noqa: E402


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "corpus"
    docs = [read_file(p) for p in corpus_files(folder)]
    warm_up()
    items: list[SourcedFigure] = []
    n_sentences = 0
    start = time.perf_counter()
    for doc in docs:
        sentences = [doc.text[a:b] for a, b in split_sentences(doc.text)]
        n_sentences += len(sentences)
        for sentence, context in zip(sentences, context_periods(sentences, doc.date), strict=True):
            year, months = (context.year, context.months) if context else (None, None)
            found = figures(sentence, article_date=doc.date, context_year=year, context_months=months)
            items.extend(SourcedFigure(f, sentence, doc.doc_id, doc.date) for f in found)
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    conflicts = find_conflicts(items)
    check_s = time.perf_counter() - start
    print(f"{len(docs)} articles, {n_sentences} sentences, {len(items)} figures, {len(conflicts)} conflicts")
    print(f"figures: {read_s * 1000 / max(n_sentences, 1):.2f} ms/sentence; conflicts: {check_s * 1000:.1f} ms")
    for c in conflicts:
        print(f"  {c.quantity}: {c.first.figure.text} ({c.first.doc_id}) vs {c.second.figure.text} ({c.second.doc_id})")


if __name__ == "__main__":
    main()
