"""Streamed line scan of a text file: the header line and every over-long line, in bounded memory.

A CSV reader refuses a whole file when one line is longer than its buffer (one 100 MB line lost 1,000
good rows, issue 15). The scan reads the file in fixed chunks, finds the lines longer than the limit by
their newline offsets, and `copy_without` writes the file again without them, so the parser only ever
sees lines of bounded size and each long line becomes one reject with its line number.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cdna.core.errors import InputError

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "LineScan",
    "LongLine",
    "copy_without",
    "original_line_numbers",
    "scan_lines",
]

DEFAULT_MAX_LINE_BYTES = 1 << 20
_CHUNK = 1 << 20
_HEAD = 120  # bytes of a long line kept for its reject row


@dataclass(frozen=True)
class LongLine:
    """One line longer than the limit.

    Attributes:
        line: 1-based line number in the file (the header is line 1).
        start / end: byte offsets of the line's first byte and just past its newline.
        length: bytes in the line, newline excluded.
        head: its first bytes, for the reject row.
    """

    line: int
    start: int
    end: int
    length: int
    head: bytes

    def preview(self) -> str:
        """The start of the line as text, with its size."""
        text = self.head.decode("utf-8", errors="replace").rstrip("\r")
        return f"{text}… ({self.length:,} bytes)"


@dataclass(frozen=True)
class LineScan:
    """What one pass over the file found.

    Attributes:
        header: the first line (newline and BOM removed).
        long_lines: lines over the limit, in file order.
        lines: number of lines in the file.
    """

    header: bytes
    long_lines: tuple[LongLine, ...]
    lines: int


def _open(path: Path) -> BinaryIO:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # noqa: SIM115 - returned to a with-block


def scan_lines(path: Path, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> LineScan:
    """Read `path` once in 1 MB chunks and list its lines longer than `max_line_bytes`.

    Raises:
        InputError: the header line itself is longer than the limit (nothing can be read).
    """
    long_lines: list[LongLine] = []
    header = bytearray()
    header_done = False
    pos = 0  # offset of the chunk's first byte
    line_no = 1
    line_start = 0
    head = bytearray()  # first bytes of the line that started before this chunk
    with _open(path) as fh:
        while chunk := fh.read(_CHUNK):
            newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if len(head) < _HEAD:
                cut = newlines[0] if newlines.size else len(chunk)
                head += chunk[: min(int(cut), _HEAD - len(head))]
            if not header_done:
                cut = int(newlines[0]) if newlines.size else len(chunk)
                header += chunk[: min(cut, max_line_bytes + 1 - len(header))]
                header_done = bool(newlines.size)
            if newlines.size:
                ends = pos + newlines
                starts = np.concatenate(([line_start], ends[:-1] + 1))
                for i in np.flatnonzero(ends - starts > max_line_bytes):
                    start = int(starts[i])
                    first = bytes(head) if i == 0 else chunk[start - pos : start - pos + _HEAD]
                    long_lines.append(
                        LongLine(line_no + int(i), start, int(ends[i]) + 1, int(ends[i] - starts[i]), first)
                    )
                line_no += int(newlines.size)
                line_start = int(ends[-1]) + 1
                head = bytearray(chunk[line_start - pos : line_start - pos + _HEAD])
            pos += len(chunk)
    if pos > line_start:  # last line without a newline
        if pos - line_start > max_line_bytes:
            long_lines.append(LongLine(line_no, line_start, pos, pos - line_start, bytes(head)))
    else:
        line_no -= 1
    if long_lines and long_lines[0].line == 1:
        raise InputError(
            f"{path}: the header line is longer than {max_line_bytes:,} bytes "
            f"({long_lines[0].length:,} bytes); no column names can be read",
            hint="check that this is a CSV file with a header line, or raise ingest.max_line_bytes",
        )
    text = bytes(header).rstrip(b"\r")
    return LineScan(text.removeprefix(b"\xef\xbb\xbf"), tuple(long_lines), line_no)


def copy_without(path: Path, drop: Sequence[LongLine], dest: Path) -> Path:
    """Write `path` (decompressed) to `dest` without the byte ranges of `drop`, streaming in chunks."""
    cuts = sorted((d.start, d.end) for d in drop)
    pos = 0
    with _open(path) as src, open(dest, "wb") as out:
        while chunk := src.read(_CHUNK):
            lo, hi = pos, pos + len(chunk)
            keep_from = lo
            for start, end in cuts:
                if end <= keep_from or start >= hi:
                    continue
                if start > keep_from:
                    out.write(chunk[keep_from - lo : start - lo])
                keep_from = min(end, hi)
            if keep_from < hi:
                out.write(chunk[keep_from - lo :])
            pos = hi
    return dest


def original_line_numbers(lines: np.ndarray, removed: Sequence[int]) -> np.ndarray:
    """Map line numbers of the copy made without `removed` lines back to line numbers of the original."""
    if not removed:
        return lines
    gone = np.sort(np.asarray(removed, dtype=np.int64))
    # removed line i is preceded by gone[i] - 1 - i kept lines: a kept line lies past it when its copy
    # number is at least gone[i] - i
    shift = np.searchsorted(gone - np.arange(gone.size), lines, side="right")
    return lines + shift
