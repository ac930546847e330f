from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dadong_qa import QA, IndexCorruptError, IndexMismatchError, IndexMissingError
from dadong_qa import index as store
from dadong_qa.embed import get_embedder
from dadong_qa.index import storage
from dadong_qa.ingestion.chunk import ChunkParams

NEW_ARTICLE = """西湖区建成智慧停车平台-测试新闻网

来源: 2023-03-01 10:00

西湖区智慧停车平台正式上线，接入停车泊位8600个。市民通过手机即可查询空余车位并在线缴费。
"""


def _live_file(index_dir: Path, name: str) -> Path:
    """A file of the live version: at its top (manifest.json) or in its first segment."""
    return sorted((index_dir / store.current_version(index_dir)).rglob(name))[0]


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_manifest_records_schema_embedder_hashes_and_checksums(built_qa: QA):
    root = built_qa.settings.index_dir
    manifest = store.read_manifest(root)
    assert manifest["schema_version"] == store.SCHEMA_VERSION
    assert manifest["embedder"] == {"name": "use-multilingual-v3", "dim": 512}
    assert set(manifest["docs"]) == {"000_0f957d856a3f9b1b", "003_1e56cd1d5de5c129"}
    assert all(len(d["sha256"]) == 64 for d in manifest["docs"].values())
    # Per segment: articles, ids, BM25 term counts, corpus words, vectors.
    names = {Path(f).name for f in manifest["files"]}
    assert {"chunks.faiss", "sentences.faiss", "docs.jsonl", "tf.npz", "ids.npz", "words.json"} <= names
    assert all(len(d) == 64 for d in manifest["files"].values())


def test_no_pickle_files_in_index(built_qa: QA):
    files = list(Path(built_qa.settings.index_dir).rglob("*"))
    assert not [f for f in files if f.suffix in {".pkl", ".pickle", ".joblib"}]
    for npy in (f for f in files if f.suffix == ".npy"):
        import numpy as np

        np.load(npy, allow_pickle=False)  # raises if any array needs pickle


def test_round_trip_keeps_documents_and_vectors(built_qa: QA):
    loaded = store.load(built_qa.settings.index_dir, get_embedder())
    live = built_qa.index
    assert loaded.chunks.keys() == live.chunks.keys()
    assert loaded.sentences.keys() == live.sentences.keys()
    sid = next(iter(loaded.sentences))
    assert loaded.sentences[sid].text == live.sentences[sid].text
    assert (loaded.sentence_vectors([sid]) == live.sentence_vectors([sid])).all()


def test_missing_index_says_how_to_build(tmp_path: Path):
    with pytest.raises(IndexMissingError, match="dadong-qa build"):
        store.load(tmp_path / "nothing")


def test_mismatched_embedder_raises(built_qa: QA):
    class Other:
        name, dim = "other-model", 384

    with pytest.raises(IndexMismatchError, match="other-model"):
        store.load(built_qa.settings.index_dir, Other())


@pytest.mark.parametrize("victim", ["chunks.faiss", "docs.jsonl", "manifest.json"])
def test_damaged_file_detected_with_rebuild_hint(built_qa: QA, tmp_path: Path, victim: str):
    copy = tmp_path / "index"
    shutil.copytree(built_qa.settings.index_dir, copy)
    path = _live_file(copy, victim)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="dadong-qa build"):
        store.load(copy)


def test_truncated_file_detected(built_qa: QA, tmp_path: Path):
    copy = tmp_path / "index"
    shutil.copytree(built_qa.settings.index_dir, copy)
    path = _live_file(copy, "sentences.faiss")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match=r"sentences\.faiss"):
        store.load(copy)


def test_chunk_params_recorded(built_qa: QA):
    manifest = store.read_manifest(built_qa.settings.index_dir)
    assert ChunkParams(**manifest["chunking"]) == built_qa.index.params
    assert json.loads(json.dumps(manifest))  # plain JSON


# ---------------------------------------------------------------- integrity (issue 8)


def _version_files(index_dir: Path) -> list[Path]:
    folder = index_dir / store.current_version(index_dir)
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_every_index_file_has_a_checksum_in_the_manifest(built_qa: QA):
    root = Path(built_qa.settings.index_dir)
    folder = root / store.current_version(root)
    listed = set(store.read_manifest(root)["files"])
    on_disk = {str(p.relative_to(folder)) for p in _version_files(root)}
    assert on_disk - {"manifest.json"} == listed  # the manifest carries its own checksum
    assert "checksum" in json.loads((folder / "manifest.json").read_text("utf-8"))


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_any_damaged_file_is_named_with_the_rebuild_command(built_qa: QA, tmp_path: Path, damage: str):
    src = Path(built_qa.settings.index_dir)
    for i, rel in enumerate(p.relative_to(src) for p in _version_files(src)):
        copy = tmp_path / f"index{i}"
        shutil.copytree(src, copy)
        path = copy / rel
        data = bytearray(path.read_bytes())
        if damage == "flip":
            data[len(data) // 3] ^= 0x01  # one bit: still valid text in JSON files
        else:
            data = data[: len(data) // 2]
        path.write_bytes(bytes(data))
        with pytest.raises(IndexCorruptError) as info:
            store.load(copy)
        assert path.name in str(info.value) and "dadong-qa build" in str(info.value), rel


def test_manifest_edit_that_still_parses_is_detected(built_qa: QA, tmp_path: Path):
    copy = tmp_path / "index"
    shutil.copytree(built_qa.settings.index_dir, copy)
    path = _live_file(copy, "manifest.json")
    manifest = json.loads(path.read_text("utf-8"))
    manifest["next_cid"] += 1
    path.write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexCorruptError, match=r"manifest\.json.*dadong-qa build"):
        store.load(copy)


def test_load_follows_a_version_replaced_while_it_was_read(fresh_qa: QA, tmp_path: Path, monkeypatch):
    root = Path(fresh_qa.settings.index_dir)
    old = store.current_version(root)
    fresh_qa.add([_write(tmp_path, "xihu_parking.txt", NEW_ARTICLE)])
    fresh_qa.remove(["xihu_parking"])  # two switches: the first version's folder is gone
    assert not (root / old).exists()
    real = store.current_version
    stale = iter([old])  # a reader that read CURRENT just before those switches
    monkeypatch.setattr(storage, "current_version", lambda d: next(stale, None) or real(d))
    index = store.load(root)
    assert index.version == real(root) and "xihu_parking" not in index.docs


def test_clean_up_keeps_the_version_that_was_live_before(fresh_qa: QA, tmp_path: Path):
    root = Path(fresh_qa.settings.index_dir)
    for n in range(3):  # several versions within one second: names alone do not order them
        previous = store.current_version(root)
        fresh_qa.add([_write(tmp_path, "xihu_parking.txt", NEW_ARTICLE.replace("8600", str(8601 + n)))])
        assert (root / previous / "manifest.json").is_file()
        assert len([p for p in root.glob("v-*") if p.is_dir()]) == 2


def test_no_pickle_loading_anywhere_in_the_code():
    """Security: loading a pickle runs code from the file. Only JSON, .npy/.npz without pickle, FAISS."""
    import re

    root = Path(__file__).resolve().parents[2]
    files = [*(root / "src").rglob("*.py"), *(root / "bench").rglob("*.py"), root / "app.py"]
    bad = re.compile(
        r"\bimport pickle\b|\bfrom pickle\b|\bpickle\.|\bcloudpickle\b|\bdill\b|\bjoblib\b|\bshelve\b"
        r"|allow_pickle\s*=\s*True|torch\.load\((?![^)]*weights_only\s*=\s*True)|trust_remote_code\s*=\s*True"
    )
    found = []
    for path in files:
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if bad.search(line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not found, found
    # Every numpy load says allow_pickle=False (numpy's default is False today, but say it).
    loads = [
        f"{p.relative_to(root)}:{n}"
        for p in files
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if "np.load(" in line and "allow_pickle=False" not in line
    ]
    assert not loads, loads
