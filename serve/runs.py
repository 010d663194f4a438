"""Background retrains started over HTTP: one at a time, state kept as JSON under LAKE/serve/runs/."""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdna.core.lake import atomic_write_text

__all__ = ["RetrainRuns", "RunBusyError"]


class RunBusyError(Exception):
    """A retrain is already running (its id is the message)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _parse_result(stdout: str) -> dict[str, Any]:
    """The JSON result a `cdna --json …` command printed (the last JSON document on stdout)."""
    text = stdout.strip()
    start = text.find("{")
    while start != -1:
        try:
            data = json.loads(text[start:])
            return data if isinstance(data, dict) else {"result": data}
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
    return {}


def _first_line(stderr: str, code: int) -> str:
    """The CLI's own error line (no traceback without --debug), cut short."""
    from cdna.serve.state import mask_text

    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return mask_text((lines[0] if lines else f"exit code {code}")[:300]) or ""


def _promoted(result: Any) -> bool:
    """Whether a retrain result says a new champion was promoted (any `promoted: true`, however nested)."""
    if isinstance(result, dict):
        return any(
            (k == "promoted" and v is True) or (isinstance(v, dict | list) and _promoted(v))
            for k, v in result.items()
        )
    if isinstance(result, list):
        return any(_promoted(v) for v in result)
    return False


class RetrainRuns:
    """Starts `cdna retrain` in the background and records its state.

    Attributes:
        folder: where run records are written (LAKE/serve/runs/).
        argv: the command line to run.
    """

    def __init__(
        self,
        folder: Path,
        argv: list[str],
        timeout_s: float = 6 * 3600,
        rescore_argv: list[str] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.argv = list(argv)
        self.rescore_argv = list(rescore_argv) if rescore_argv else None
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._active: str | None = None

    def _path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    def _write(self, rec: dict[str, Any]) -> None:
        atomic_write_text(self._path(rec["run_id"]), json.dumps(rec, ensure_ascii=False, indent=2))

    def start(self, requested_by: str) -> dict[str, Any]:
        """Start a retrain and return its record; RunBusyError when one is already running."""
        with self._lock:
            if self._active is not None:
                raise RunBusyError(self._active)
            run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
            rec: dict[str, Any] = {
                "run_id": run_id,
                "state": "running",
                "requested_by": requested_by,
                "started_at": _now(),
                "finished_at": None,
                "exit_code": None,
                "metrics": {},
                "promoted": None,
                "error": None,
            }
            self._write(rec)
            self._active = run_id
        threading.Thread(target=self._run, args=(rec,), name=f"retrain-{run_id}", daemon=True).start()
        return rec

    def _run(self, rec: dict[str, Any]) -> None:
        try:
            proc = subprocess.run(
                self.argv, capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
            result = _parse_result(proc.stdout)
            rec["exit_code"] = proc.returncode
            rec["state"] = "succeeded" if proc.returncode == 0 else "failed"
            rec["metrics"] = result.get("metrics", result) if isinstance(result, dict) else {}
            rec["promoted"] = _promoted(result)
            if proc.returncode != 0:
                rec["error"] = _first_line(proc.stderr, proc.returncode)
            elif rec["promoted"] and self.rescore_argv:
                # A new champion serves nothing until its batch scores exist: score now, and the service's
                # poll swaps them in (issue #7: hot-swap after promotion).
                rec["state"] = "rescoring"
                self._write(rec)
                proc = subprocess.run(
                    self.rescore_argv, capture_output=True, text=True, timeout=self.timeout_s, check=False
                )
                rec["rescore_exit_code"] = proc.returncode
                rec["state"] = "succeeded" if proc.returncode == 0 else "failed"
                if proc.returncode != 0:
                    rec["error"] = "rescoring: " + _first_line(proc.stderr, proc.returncode)
        except subprocess.TimeoutExpired:
            rec["state"], rec["error"] = "failed", f"timed out after {self.timeout_s:.0f} s"
        except OSError as exc:
            rec["state"], rec["error"] = "failed", f"could not start the retrain: {type(exc).__name__}"
        finally:
            rec["finished_at"] = _now()
            self._write(rec)
            with self._lock:
                self._active = None

    def get(self, run_id: str) -> dict[str, Any] | None:
        """The record of a run (from disk, so every worker sees every run), or None."""
        try:
            return json.loads(self._path(run_id).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
        except (FileNotFoundError, json.JSONDecodeError):
            return None
