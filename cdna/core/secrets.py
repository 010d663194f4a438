"""Secret keys kept outside the lake (audit checkpoint key, partner-linkage key): one way to load them.

A key comes from an environment variable (hex, or any text of at least 32 characters) or from a file
(raw bytes or hex, owner-only). It is never written into the lake: a key file inside the lake folder is
refused, since whoever can read the lake could then forge audit checkpoints or re-identify pseudonyms.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cdna.core.errors import ConfigError

__all__ = ["KeyMissingError", "SecretKey", "create_key_file", "load_key"]

MIN_KEY_BYTES = 16


class KeyMissingError(ConfigError):
    """No key is configured, or it is unusable (too short, inside the lake, readable by others)."""


@dataclass(frozen=True)
class SecretKey:
    """A loaded key.

    Attributes:
        material: the key bytes (never logged, never written to the lake).
        source: where it came from ("env CDNA_…" or the file path), for messages.
    """

    material: bytes
    source: str

    @property
    def key_id(self) -> str:
        """A short public fingerprint (first 12 hex of sha256 of the key): tells keys apart, reveals nothing."""
        return hashlib.sha256(b"cdna-key-id:" + self.material).hexdigest()[:12]

    def __repr__(self) -> str:  # never print the material
        return f"SecretKey(source={self.source!r}, key_id={self.key_id!r})"


def _decode(text: bytes) -> bytes:
    stripped = text.strip()
    try:
        raw = bytes.fromhex(stripped.decode("ascii"))
        if len(raw) >= MIN_KEY_BYTES:
            return raw
    except (UnicodeDecodeError, ValueError):
        pass
    return stripped


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def load_key(
    what: str,
    key_file: Path | None,
    key_env: str | None,
    lake_root: Path | None = None,
    environ: dict[str, str] | None = None,
) -> SecretKey:
    """The key for `what` from env var `key_env` (first) or `key_file`; KeyMissingError saying how to set one."""
    env = os.environ if environ is None else environ
    if key_env and env.get(key_env):
        material = _decode(env[key_env].encode("utf-8"))
        source = f"environment variable {key_env}"
    elif key_file is not None and Path(key_file).expanduser().is_file():
        path = Path(key_file).expanduser()
        if lake_root is not None and _inside(path, lake_root):
            raise KeyMissingError(
                f"the {what} key file {path} is inside the lake {lake_root}",
                hint="keep keys outside the lake (anyone who can read the lake could use it); move the file",
            )
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyMissingError(
                f"the {what} key file {path} is readable by other users (mode {path.stat().st_mode & 0o777:o})",
                hint=f"chmod 600 {path}",
            )
        material = _decode(path.read_bytes())
        source = str(path)
    else:
        where = " or ".join(
            x
            for x in (
                f"environment variable {key_env}" if key_env else "",
                f"file {key_file}" if key_file else "",
            )
            if x
        )
        raise KeyMissingError(
            f"no {what} key configured (looked for {where or 'nothing: no file or variable configured'})",
            hint=f"create one with `python -c 'import secrets; print(secrets.token_hex(32))'` into {key_env or 'a key file'}",
        )
    if len(material) < MIN_KEY_BYTES:
        raise KeyMissingError(
            f"the {what} key from {source} is {len(material)} bytes; at least {MIN_KEY_BYTES} are needed",
            hint="use 32 random bytes, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`",
        )
    return SecretKey(material, source)


def create_key_file(path: Path, lake_root: Path | None = None) -> SecretKey:
    """Write a new random 32-byte key (hex) to `path`, owner-only, refusing a path inside the lake."""
    path = Path(path).expanduser()
    if lake_root is not None and _inside(path, lake_root):
        raise KeyMissingError(
            f"refusing to create a key file inside the lake: {path}", hint="choose a path outside it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return load_key("new", path, None, lake_root)
