"""Posting lists on disk: one file of page-aligned blocks, one block per list, plus an in-RAM
offset table (offset, capacity, count, two CRC32s per list).

Block layout: ``[slot ids: int32 x cap][pad][codes: cap x row_bytes]`` where the codes start
at a file offset that is a multiple of ``row_bytes``, so the whole file can be viewed as one
array of rows and any set of lists gathered with a single fancy index (mmap mode), or each
list fetched with one ``preadv`` (pread mode). A list's live prefix is ``count`` entries.

Crash safety rests on one rule: bytes that a saved manifest references are never written
again in the same file. Appends go past a list's saved count or into new blocks at the end
of the file; freed blocks are only reclaimed by compaction, which writes a new file. So a crash
at any point leaves the last saved snapshot intact. Callers serialise mutations; reads may
run concurrently with each other (the owner's read/write lock orders them against writes)."""

from __future__ import annotations

import mmap
import os
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]

_MIN_FILE = 1 << 20


def _align(x: int, a: int) -> int:
    return -(-x // a) * a


class PostingStore:
    def __init__(
        self, file: Path, *, row_bytes: int, page: int, io: str, create: bool, used: int = 0
    ) -> None:
        if io not in ("mmap", "pread"):
            raise ValueError(f"unknown io mode {io!r}")
        self.file = file
        self.row_bytes = row_bytes
        self.page = page
        self.io = io
        flags = os.O_RDWR | (os.O_CREAT | os.O_TRUNC if create else 0)
        self._fd = os.open(file, flags, 0o644)
        self._size = os.fstat(self._fd).st_size
        self.used = _align(used, page)
        if self._size < self.used:
            os.close(self._fd)
            raise ValueError(f"{file} holds {self._size} bytes, {self.used} expected")
        self._view: tuple[mmap.mmap, U8, I32] | None = None
        self._grow_file(max(self.used, _MIN_FILE))
        self._remap()
        n0 = 64
        self.offset = np.zeros(n0, dtype=np.int64)
        self.cap = np.zeros(n0, dtype=np.int32)
        self.count = np.zeros(n0, dtype=np.int32)
        self.crc_ids = np.zeros(n0, dtype=np.uint32)
        self.crc_codes = np.zeros(n0, dtype=np.uint32)
        self.n_lists = 0

    # --- tables -----------------------------------------------------------------------------
    _TABLES = ("offset", "cap", "count", "crc_ids", "crc_codes")

    def ensure_lists(self, n: int) -> None:
        """Make room for list ids < n (new lists start empty)."""
        if n > self.offset.size:
            size = max(n, 2 * self.offset.size)
            for name in self._TABLES:
                old = getattr(self, name)
                new = np.zeros(size, dtype=old.dtype)
                new[: old.size] = old
                setattr(self, name, new)
        self.n_lists = max(self.n_lists, n)

    def tables(self) -> dict[str, npt.NDArray[np.generic]]:
        return {name: getattr(self, name)[: self.n_lists].copy() for name in self._TABLES}

    def set_tables(self, tables: dict[str, npt.NDArray[np.generic]]) -> None:
        n = int(tables["offset"].shape[0])
        self.n_lists = 0
        self.ensure_lists(n)
        for name in self._TABLES:
            arr = getattr(self, name)
            arr[:n] = tables[name]

    # --- geometry ---------------------------------------------------------------------------
    def codes_offset(
        self, offset: npt.NDArray[np.int64], cap: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.int64]:
        rb = self.row_bytes
        return -(-(offset + cap.astype(np.int64) * 4) // rb) * rb

    def _geometry(self, offset: int, want: int) -> tuple[int, int]:
        """(capacity, block bytes) of a block at `offset` holding at least `want` entries;
        the capacity is raised to use the page-rounding slack."""
        rb = self.row_bytes

        def end(c: int) -> int:
            return _align(offset + c * 4, rb) + c * rb

        nbytes = _align(end(want) - offset, self.page)
        cap = want
        while end(cap + 1) <= offset + nbytes:
            cap += 1
        return cap, nbytes

    # --- file and mapping -------------------------------------------------------------------
    def _grow_file(self, end: int) -> None:
        if end <= self._size:
            return
        new = _align(max(end, self._size + self._size // 4, _MIN_FILE), self.page)
        os.ftruncate(self._fd, new)
        self._size = new
        self._remap()

    def _remap(self) -> None:
        if self.io != "mmap":
            return
        mm = mmap.mmap(self._fd, self._size, access=mmap.ACCESS_READ)
        rows = np.frombuffer(
            mm, dtype=np.uint8, count=(self._size // self.row_bytes) * self.row_bytes
        )
        ids = np.frombuffer(mm, dtype=np.int32, count=self._size // 4)
        # Old mappings are left to the garbage collector: a reader that still holds a view
        # keeps its mapping valid (the bytes it reads are never rewritten).
        self._view = (mm, rows.reshape(-1, self.row_bytes), ids)

    # --- writes -----------------------------------------------------------------------------
    def write_list(self, lst: int, slots: I32, codes: U8, *, room: int = 0) -> None:
        """Write list `lst` afresh into a new block at the end of the file (the old block, if
        any, becomes garbage); `room` extra entries of capacity are reserved for appends."""
        m = int(slots.shape[0])
        if codes.shape != (m, self.row_bytes) or slots.dtype != np.int32 or codes.dtype != np.uint8:
            raise ValueError("slots must be int32 (m,) and codes uint8 (m, row_bytes)")
        self.ensure_lists(lst + 1)
        offset = self.used
        cap, nbytes = self._geometry(offset, max(m + room, 1))
        block = np.zeros(nbytes, dtype=np.uint8)
        id_bytes = slots.tobytes()
        code_bytes = np.ascontiguousarray(codes).tobytes()
        block[: len(id_bytes)] = np.frombuffer(id_bytes, dtype=np.uint8)
        co = int(self.codes_offset(np.array([offset]), np.array([cap], np.int32))[0]) - offset
        block[co : co + len(code_bytes)] = np.frombuffer(code_bytes, dtype=np.uint8)
        self._grow_file(offset + nbytes)
        os.pwrite(self._fd, block.data, offset)
        self.used = offset + nbytes
        self.offset[lst], self.cap[lst], self.count[lst] = offset, cap, m
        self.crc_ids[lst] = zlib.crc32(id_bytes)
        self.crc_codes[lst] = zlib.crc32(code_bytes)

    def append(self, lst: int, slots: I32, codes: U8) -> bool:
        """Append entries into the block's spare capacity; False (nothing written) if full."""
        m = int(slots.shape[0])
        c = int(self.count[lst])
        if c + m > int(self.cap[lst]) or self.cap[lst] == 0:
            return False
        off = int(self.offset[lst])
        co = int(self.codes_offset(self.offset[lst : lst + 1], self.cap[lst : lst + 1])[0])
        id_bytes = np.ascontiguousarray(slots, dtype=np.int32).tobytes()
        code_bytes = np.ascontiguousarray(codes, dtype=np.uint8).tobytes()
        os.pwrite(self._fd, id_bytes, off + 4 * c)
        os.pwrite(self._fd, code_bytes, co + c * self.row_bytes)
        self.crc_ids[lst] = zlib.crc32(id_bytes, int(self.crc_ids[lst]))
        self.crc_codes[lst] = zlib.crc32(code_bytes, int(self.crc_codes[lst]))
        self.count[lst] = c + m
        return True

    def clear(self, lst: int) -> None:
        self.offset[lst] = self.cap[lst] = self.count[lst] = 0
        self.crc_ids[lst] = self.crc_codes[lst] = 0

    # --- reads ------------------------------------------------------------------------------
    def read(
        self, lists: npt.NDArray[np.int64], via_pread: bool = False
    ) -> tuple[I32, U8, npt.NDArray[np.int64]]:
        """Entries of `lists` concatenated: slot ids (m,), codes (m, row_bytes), and the
        number of entries each list contributed."""
        lists = np.asarray(lists, dtype=np.int64)
        counts = self.count[lists].astype(np.int64)
        offs = self.offset[lists]
        cos = self.codes_offset(offs, self.cap[lists])
        if self.io == "mmap" and not via_pread:
            slots, codes = self._gather(offs, cos, counts)
        else:
            slots, codes = self._pread(offs, cos, counts)
        return slots, codes, counts

    def sources(
        self, lists: npt.NDArray[np.int64]
    ) -> tuple[I32, U8, npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Where the entries of distinct `lists` can be gathered from: (slot array, code rows,
        first slot index per list, first code row per list, entries per list). In mmap mode
        these are the mapping itself (nothing is copied here; callers gather straight from the
        page cache); in pread mode each list is read once into fresh arrays."""
        lists = np.asarray(lists, dtype=np.int64)
        if self.io == "mmap":
            view = self._view
            assert view is not None
            counts = self.count[lists].astype(np.int64)
            offs = self.offset[lists]
            cos = self.codes_offset(offs, self.cap[lists])
            return view[2], view[1], offs // 4, cos // self.row_bytes, counts
        slots, codes, counts = self.read(lists)
        starts = np.cumsum(counts) - counts
        return slots, codes, starts, starts, counts

    def _gather(
        self, offs: npt.NDArray[np.int64], cos: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
    ) -> tuple[I32, U8]:
        view = self._view
        assert view is not None
        _, rows, ids = view
        total = int(counts.sum())
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        codes = rows[np.repeat(cos // self.row_bytes, counts) + within]
        slots = ids[np.repeat(offs // 4, counts) + within]
        return slots, codes

    def _pread(
        self, offs: npt.NDArray[np.int64], cos: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
    ) -> tuple[I32, U8]:
        total = int(counts.sum())
        rb = self.row_bytes
        slots = np.empty(total, dtype=np.int32)
        codes = np.empty((total, rb), dtype=np.uint8)
        sv = slots.data.cast("B")
        cv = codes.reshape(-1).data
        gaps = cos - offs - 4 * counts
        scratch = memoryview(bytearray(int(gaps.max()) if gaps.size else 0))
        pos = 0
        for off, gap, c in zip(offs.tolist(), gaps.tolist(), counts.tolist(), strict=True):
            if c == 0:
                continue
            bufs = [sv[4 * pos : 4 * (pos + c)], scratch[:gap], cv[rb * pos : rb * (pos + c)]]
            got = os.preadv(self._fd, bufs, off)
            if got != 4 * c + gap + rb * c:
                raise OSError(f"short read of {self.file} at {off}: {got} bytes")
            pos += c
        return slots, codes

    def verify(self, lists: npt.NDArray[np.int64]) -> list[int]:
        """Ids of lists whose stored bytes do not match their CRCs."""
        bad = []
        for lst in np.asarray(lists, dtype=np.int64).tolist():
            # pread, not the mapping: verifying must not map every page into this process.
            slots, codes, _ = self.read(np.array([lst]), via_pread=True)
            if zlib.crc32(slots.tobytes()) != int(self.crc_ids[lst]) or zlib.crc32(
                codes.tobytes()
            ) != int(self.crc_codes[lst]):
                bad.append(lst)
        return bad

    # --- housekeeping -----------------------------------------------------------------------
    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        self._view = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def bytes_on_disk(self) -> int:
        return int(os.fstat(self._fd).st_blocks) * 512

    def block_bytes(self) -> int:
        """Bytes of the blocks the lists use now (page-rounded, spare capacity included). The
        rest of `used` is blocks that lists moved out of: garbage until compaction."""
        n = self.n_lists
        cap = self.cap[:n]
        held = cap > 0
        offs, caps = self.offset[:n][held], cap[held]
        ends = self.codes_offset(offs, caps) + caps.astype(np.int64) * self.row_bytes
        return int((-(-(ends - offs) // self.page) * self.page).sum())

    def table_nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self._TABLES)
