"""The `dadong-qa` command: build, add, sync, remove, meta, list, status, ask, eval, serve."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from dadong_qa import index as store
from dadong_qa.answering.policy import PolicyError
from dadong_qa.answering.reader import ReaderError
from dadong_qa.api import QA, ChangeReport, QuestionError
from dadong_qa.audit import AuditLogError
from dadong_qa.config import load_settings
from dadong_qa.embed import EmbedderError
from dadong_qa.index import IndexStoreError
from dadong_qa.ingestion.ingest import IngestError
from dadong_qa.retrieval.rerank import RerankerError
from dadong_qa.retrieval.retrieve import MODES
from dadong_qa.schema import Answer


class _Bars:
    """tqdm progress bars, one per stage, on stderr."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        from tqdm import tqdm

        labels = {
            "read": "读取文章 read",
            "embed": "向量化 embed",
            "tokenize": "分词 tokenize",
            "index": "建索引 index",
            "ask": "提问 ask",
        }
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=labels.get(stage, stage), unit="item", file=sys.stderr)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


def _common(p: argparse.ArgumentParser, suppress: bool = False) -> None:
    d = argparse.SUPPRESS if suppress else None
    p.add_argument("--corpus", default=d, help="article folder (default ./corpus, env DADONG_QA_CORPUS)")
    p.add_argument("--index", default=d, help="index folder (default ./index, env DADONG_QA_INDEX)")
    p.add_argument("--embedder", default=d, help="use-multilingual-v3 or a sentence-transformers name/path")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dadong-qa", description="Chinese QA over news articles, with citations.")
    _common(parser, suppress=True)
    sub = parser.add_subparsers(dest="command", required=True)

    def cmd(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        _common(p, suppress=True)
        return p

    cmd("build", "rebuild the whole index from the corpus folder")
    p = cmd("add", "add or replace articles (.txt, .md, .html, .pdf, .docx files, or http(s) URLs of pages)")
    p.add_argument("files", nargs="*")
    p.add_argument("--feed", action="append", default=[], help="RSS/Atom feed URL: add its items not yet added")
    cmd("sync", "make the index match the corpus folder (add new/changed files, remove deleted ones)")
    p = cmd("remove", "remove articles by doc_id")
    p.add_argument("doc_ids", nargs="+")
    p = cmd("meta", "correct an article's title or date (only that article is re-indexed)")
    p.add_argument("doc_id")
    p.add_argument("--title", default=None)
    p.add_argument("--date", default=None, help="YYYY-MM-DD")
    p = cmd("list", "list the indexed articles")
    p.add_argument("--json", action="store_true")
    p = cmd("status", "show index status")
    p.add_argument("--json", action="store_true")
    p = cmd("ask", "ask a question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.add_argument("-k", type=int, default=None, help="passages to return")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p = cmd("eval", "evaluate on a JSONL question set")
    p.add_argument("set")
    p.add_argument("--json", action="store_true")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--compare", action="store_true", help="run BM25-only, dense-only and hybrid side by side")
    p.add_argument("--curve", action="store_true", help="refusal / false-refusal trade-off over the threshold")
    p = cmd("eval-open", "open-domain evaluation on a SQuAD-format file (every paragraph an article)")
    p.add_argument("file")
    p.add_argument(
        "--holdout", type=float, default=0.3, help="share of paragraphs kept out (their questions: unanswerable)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--silent",
        type=float,
        default=0.0,
        help="share of questions whose answer sentences are removed from their paragraph (then refused)",
    )
    p.add_argument("--answerable", type=int, default=600, help="answerable questions sampled (0 = all)")
    p.add_argument("--unanswerable", type=int, default=200, help="unanswerable questions sampled (0 = all)")
    p.add_argument("--workdir", default=".cache/eval-open", help="where the corpus and index of each split are kept")
    p.add_argument("--policy", default=None, help="answer-decision weights (JSON) instead of the shipped ones")
    p.add_argument("--threshold", type=float, default=None, help="refusal threshold instead of the configured one")
    p.add_argument("--no-reader", action="store_true", help="decide with the answer policy alone (reader = false)")
    p.add_argument("--json", action="store_true")
    p = cmd("serve", "start the chat web app")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    _roles_parsers(cmd)
    return parser


def _qa(args: argparse.Namespace) -> QA:
    overrides = {
        "corpus_dir": getattr(args, "corpus", None),
        "index_dir": getattr(args, "index", None),
        "embedder": getattr(args, "embedder", None),
    }
    return QA(load_settings(**overrides))


def _add(qa: QA, args: argparse.Namespace, bars: _Bars) -> ChangeReport:
    """Files, page URLs and feeds of one `add` command, merged into one report."""
    from dadong_qa.ingestion.fetch import add_feed, add_urls, is_url

    if not args.files and not args.feed:
        raise ValueError("add: give article files, page URLs or --feed URL")
    urls = [f for f in args.files if is_url(f)]
    files = [f for f in args.files if not is_url(f)]
    reports = [qa.add(files, progress=bars)] if files else []
    if urls:
        reports.append(add_urls(qa, urls, progress=bars))
    for feed in args.feed:
        reports.append(add_feed(qa, feed, progress=bars))
    merged = ChangeReport()
    for r in reports:
        for name in ("added", "replaced", "unchanged", "removed", "skipped", "errors", "notes"):
            getattr(merged, name).extend(getattr(r, name))
        merged.seconds += r.seconds
    return merged


def _print_report(report: ChangeReport) -> None:
    for label, ids in (
        ("added", report.added),
        ("replaced", report.replaced),
        ("unchanged", report.unchanged),
        ("removed", report.removed),
    ):
        if ids:
            print(f"{label}: {', '.join(ids)}")
    for note in report.notes:
        print(f"note: {note}")
    for err in report.errors:
        print(f"error: {err}", file=sys.stderr)
    print(_summary(report))


def _summary(report: ChangeReport) -> str:
    """What a change came to, in one line, also when it changed nothing ("nothing changed: 1 unchanged")."""
    counts = [
        (report.added, "added"),
        (report.replaced, "replaced"),
        (report.removed, "removed"),
        (report.unchanged, "unchanged"),
        (report.skipped, "skipped as duplicates"),
        (report.errors, "failed"),
    ]
    said = ", ".join(f"{len(ids)} {label}" for ids, label in counts if ids) or "no articles given"
    head = "done" if report.added or report.replaced or report.removed else "nothing changed"
    return f"{head}: {said} ({report.seconds:.2f}s)"


def _exit_code(report: ChangeReport) -> int:
    """0: everything done (an unchanged file or a skipped duplicate is done: it is in the index);
    1: partly done (some files or ids failed); 2: nothing done because of errors."""
    if not report.errors:
        return 0
    done = report.added or report.replaced or report.removed or report.unchanged or report.skipped
    return 1 if done else 2


READ_ONLY = ("list", "status", "ask", "eval")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code == 2 and (hint := _dash_hint(parser, argv)):
            print(hint, file=sys.stderr)
        raise
    try:
        return _run(args)
    except AuditLogError as exc:  # before OSError: it says whether the change was made
        print(f"dadong-qa: {exc}", file=sys.stderr)
        return 1 if exc.changed else 2
    except OSError as exc:  # "x.json: No such file or directory", not "[Errno 2] No such file or …: 'x.json'"
        print(f"dadong-qa: {exc.filename}: {exc.strerror}" if exc.filename else f"dadong-qa: {exc}", file=sys.stderr)
        return 2
    except (
        QuestionError,
        IngestError,
        IndexStoreError,
        EmbedderError,
        RerankerError,
        ReaderError,
        PolicyError,
        ValueError,
    ) as exc:
        print(f"dadong-qa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dadong-qa: interrupted; the index is unchanged unless the command had finished", file=sys.stderr)
        return 130


def _dash_hint(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """How to pass an article id that starts with "-" ("remove -rf" reads -rf as an option)."""
    sub = next(a for a in parser._actions if a.dest == "command")
    command = next((a for a in argv if a in sub.choices), None)
    if command not in ("remove", "meta") or "--" in argv:
        return None
    known = {s for a in sub.choices[command]._actions for s in a.option_strings}
    rest = argv[argv.index(command) + 1 :]
    dashed = [a for a in rest if a.startswith("-") and a.split("=")[0] not in known]
    if not dashed:
        return None
    return (
        f"dadong-qa: {dashed[0]!r} was read as an option; an article id that starts with '-' "
        f"goes after '--': dadong-qa {command} -- {dashed[0]}"
    )


def _run(args: argparse.Namespace) -> int:
    if args.command in ROLE_COMMANDS:
        return ROLE_COMMANDS[args.command](args)
    qa = _qa(args)
    if args.command in READ_ONLY and not store.exists(qa.settings.index_dir):
        # Reading never builds: a wrong --index must not create (or replace) an index.
        if lost := store.dangling_version(qa.settings.index_dir):
            where = f"{store.lost_index_message(qa.settings.index_dir, lost)}: run dadong-qa build"
            print(f"dadong-qa: {where} to rebuild it from {qa.settings.corpus_dir}", file=sys.stderr)
        else:
            print(f"dadong-qa: no index in {qa.settings.index_dir}: run dadong-qa build", file=sys.stderr)
        return 2
    return COMMANDS[args.command](qa, args)


def _bars() -> _Bars:
    """Progress bars when stderr is a terminal (or DADONG_QA_PROGRESS is set)."""
    return _Bars(enabled=sys.stderr.isatty() or bool(os.environ.get("DADONG_QA_PROGRESS")))


def _cmd_build(qa: QA, args: argparse.Namespace) -> int:
    bars = _bars()
    report = qa.build(progress=bars)
    bars.close()
    _print_report(report)
    s = qa.status(pending=False)
    print(f"index: {s['docs']} articles, {s['chunks']} chunks, {s['sentences']} sentences ({s['embedder']})")
    return _exit_code(report)


def _cmd_add(qa: QA, args: argparse.Namespace) -> int:
    bars = _bars()
    report = _add(qa, args, bars)
    bars.close()
    _print_report(report)
    return _exit_code(report)


def _cmd_sync(qa: QA, args: argparse.Namespace) -> int:
    report = qa.sync()
    _print_report(report)
    print(
        f"sync: {len(report.added)} added, {len(report.replaced)} replaced, {len(report.removed)} removed, "
        f"{len(report.errors)} refused"
    )
    return _exit_code(report)


def _cmd_remove(qa: QA, args: argparse.Namespace) -> int:
    report = qa.remove(args.doc_ids)
    _print_report(report)
    return _exit_code(report)


def _cmd_meta(qa: QA, args: argparse.Namespace) -> int:
    report = qa.set_meta(args.doc_id, title=args.title, date=args.date)
    _print_report(report)
    return 0


def _cmd_list(qa: QA, args: argparse.Namespace) -> int:
    docs = qa.list_docs()
    if args.json:
        print(json.dumps(docs, ensure_ascii=False, indent=1))
    else:
        for d in docs:
            print(f"{d['doc_id']}\t{d['date'] or '-'}\t{d['sentences']:>4} sentences\t{d['title']}")
    return 0


def _cmd_status(qa: QA, args: argparse.Namespace) -> int:
    s = qa.status()
    lines = [f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in s.items()]
    print(json.dumps(s, ensure_ascii=False, indent=1) if args.json else "\n".join(lines))
    return 0


def _cmd_ask(qa: QA, args: argparse.Namespace) -> int:
    answer = qa.ask(args.question, k=args.k, mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return 0
    from dadong_qa.app.chat_render import answer_lines

    print("\n".join(answer_lines(answer)))  # short answer and its period first, as in the chat
    _print_citations(answer)
    if not answer.answered and answer.passages:
        print("  最接近的资料：")
        for p in answer.passages[:3]:
            print(f"   - 《{p.title}》 {p.text[:60]}…")
    for note in answer.notes:
        print(f"  注：{note}", file=sys.stderr)
    return 0


def _print_citations(answer: Answer) -> None:
    for n, c in enumerate(answer.citations, 1):
        where = "".join(f" {x}" for x in (f"第{c.page}页" if c.page else "", c.url or "") if x)
        role = "（上下文）" if c.context else ""
        print(f"  [{n}]{role} 《{c.title}》 {c.date or '日期不详'}{where}：{c.sentence}")
        if c.aliases:
            print(f"      另见：{'；'.join(c.aliases)}")


def _cmd_eval(qa: QA, args: argparse.Namespace) -> int:
    from dadong_qa.app.evaluate import format_curve, format_table, refusal_curve, run_eval

    if args.curve:
        curve = refusal_curve(qa, args.set)
        print(json.dumps(curve) if args.json else format_curve(curve, qa.settings.refusal_threshold))
        return 0
    modes = sorted(MODES) if args.compare else [args.mode]
    results = [run_eval(qa, args.set, mode=m) for m in modes]
    if args.json:
        print(json.dumps(results if args.compare else results[0], ensure_ascii=False, indent=1))
    else:
        for r in results:
            print(format_table(r["summary"], title=f"\n== {r['set']} ({r['mode']}) =="))
    return 0


def _cmd_serve(qa: QA, args: argparse.Namespace) -> int:
    from dadong_qa.app.server import serve

    serve(qa, host=args.host, port=args.port)
    return 0


def _eval_open(qa: QA, args: argparse.Namespace) -> int:
    from dadong_qa.app.evaluate_open import evaluate_file, format_reliability, format_rows

    if args.policy or args.threshold is not None or args.no_reader:
        reader = qa.settings.reader and not args.no_reader
        threshold = {"refusal_threshold" if reader else "policy_threshold": args.threshold}
        qa = QA(qa.settings.with_overrides(answer_policy=args.policy, reader=reader, **threshold))

    bars = _bars()
    result = evaluate_file(
        qa,
        args.file,
        holdout=args.holdout,
        seed=args.seed,
        silent=args.silent,
        sample=(args.answerable, args.unanswerable),
        workdir=args.workdir,
        progress=lambda done, total: bars("ask", done, total),
    )
    bars.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    s = result["summary"]
    silent = f", silent {args.silent}" if args.silent else ""
    print(f"== {args.file} (open-domain, holdout {args.holdout}{silent}, seed {args.seed}) ==")
    print(f"{s['n_answerable']} answerable, {s['n_unanswerable']} unanswerable questions")
    print(format_rows([s]))
    print("\nrefusal trade-off over the decision threshold:")
    print(format_rows(result["curve"], marked=result["threshold"]))
    print("\ncalibration (every question answered, by confidence):")
    print(format_reliability(result["reliability"]))
    return 0


# ---------------------------------------------------------------- editors and reports (issue 13)


def _roles_parsers(cmd: Any) -> None:
    p = cmd("editor", "manage editor logins for the web app")
    esub = p.add_subparsers(dest="editor_command", required=True)
    e = esub.add_parser("add", help="add an editor or change their password (asked for; stdin when piped)")
    e.add_argument("name")
    e.add_argument("--config", default=None, help="TOML file to write (default dadong-qa.toml or DADONG_QA_CONFIG)")
    p = cmd("report", "what readers asked that the articles could not answer, and their feedback")
    p.add_argument("--since", default=None, help="YYYY-MM-DD")
    p.add_argument("--json", action="store_true")


def _cmd_editor(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dadong_qa.app.auth import add_editor, read_password
    from dadong_qa.config import config_path

    target = Path(args.config) if args.config else config_path()
    add_editor(target, args.name, read_password(sys.stdin))
    print(f"editor {args.name!r} saved in {target} (scrypt hash; restart the server to use it)")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    from dadong_qa.app.feedback import format_report, report

    since = date.fromisoformat(args.since) if args.since else None
    settings = load_settings(corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None))
    data = report(settings, since)
    print(json.dumps(data, ensure_ascii=False, indent=1) if args.json else format_report(data))
    return 0


# Each subcommand's function: the ones that read or change the collection get a `QA`.
COMMANDS: dict[str, Callable[[QA, argparse.Namespace], int]] = {
    "build": _cmd_build,
    "add": _cmd_add,
    "sync": _cmd_sync,
    "remove": _cmd_remove,
    "meta": _cmd_meta,
    "list": _cmd_list,
    "status": _cmd_status,
    "ask": _cmd_ask,
    "eval": _cmd_eval,
    "eval-open": _eval_open,
    "serve": _cmd_serve,
}
ROLE_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"editor": _cmd_editor, "report": _cmd_report}


if __name__ == "__main__":
    raise SystemExit(main())
