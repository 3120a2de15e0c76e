"""System shared memory for raw frames: the frame and its mask bits never travel over the socket.

Only for a server on the same host (``/dev/shm`` is shared). A pool of regions per frame size,
one more than the requests that can be in flight, holds each request's frame and mask bits. A
request takes a free slot and gives it back once its mask has been copied out, so requests may
finish in any order. A pool that is no longer used (a video of another size started) is retired,
not destroyed: requests still in flight write into it, and its regions go once every one of them
has been given back and the server has let go of them (Triton refuses to unregister a region a
request still references). Pools go soon rather than late because ``/dev/shm`` is small in
containers (Docker's default is 64 MiB; a 1080p pool of 5 slots is 31 MiB).
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Callable

import numpy as np
import tritonclient.utils.shared_memory as shm

from . import protocol


class _Slot:
    def __init__(self, client, prefix: str, index: int, shape: tuple[int, ...]) -> None:
        self.frame_name, self.mask_name = f"{prefix}_frame{index}", f"{prefix}_mask{index}"
        self.shape = shape  #: the frame size its pool serves
        frame_bytes, mask_bytes = int(np.prod(shape)), shape[0] * protocol.packed_width(shape[1])
        self.frame_bytes, self.mask_bytes = frame_bytes, mask_bytes
        self.busy = False  #: a request holds it (set and cleared under FrameRing's lock)
        self.frame = shm.create_shared_memory_region(self.frame_name, f"/{self.frame_name}", frame_bytes)
        self.mask = shm.create_shared_memory_region(self.mask_name, f"/{self.mask_name}", mask_bytes)
        self.registered: list[str] = []
        try:
            for name, size in ((self.frame_name, frame_bytes), (self.mask_name, mask_bytes)):
                client.register_system_shared_memory(name, f"/{name}", size)
                self.registered.append(name)
        except Exception:
            self.unregister(client)
            self.unlink()
            raise

    def unregister(self, client) -> bool:
        """True once the server holds neither region. Triton (>= 2.50) refuses while a request it
        has not finished with still references a region, even just after the client got the
        response: such a region is kept for a later try instead of leaking on the server."""
        for name in list(self.registered):
            try:
                client.unregister_system_shared_memory(name)
            except Exception as exc:  # noqa: BLE001
                if "in use" in str(exc):
                    continue
                # anything else (the server is gone, or forgot the region): nothing left to undo
            self.registered.remove(name)
        return not self.registered

    def unlink(self) -> None:
        for handle in (self.frame, self.mask):
            shm.destroy_shared_memory_region(handle)


class FrameRing:
    """A pool of regions per frame size; a pool no request has used for a while is retired.

    ``request`` may be called from several threads at once (cameras of different sizes sharing one
    client) and ``release`` from gRPC callback threads, so the pools are guarded by one lock; a new
    pool's regions are registered outside it (one pool built at a time), and regions are only ever
    destroyed in callers' threads (an RPC from inside a callback could wait on itself).
    """

    def __init__(self, client, tc, slots: int) -> None:
        self._client, self._tc, self._count = client, tc, max(2, slots)
        self._prefix = f"skyseg_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._pools: dict[tuple[int, ...], list[_Slot]] = {}
        self._free: dict[tuple[int, ...], list[_Slot]] = {}
        self._last_used: dict[tuple[int, ...], float] = {}
        self._retired: list[_Slot] = []
        self._generation = 0
        self._changed = threading.Condition()
        self._building = threading.Lock()

    def request(self, rgb: np.ndarray) -> tuple[list, list, Callable[[], np.ndarray], Callable[[], None]]:
        """(inputs, outputs, read_mask, release) for one frame. ``read_mask()`` copies the mask
        out; ``release()`` gives the slot back and must follow exactly once, read or failed."""
        self.collect()
        slot = self._take(rgb.shape)
        shm.set_shared_memory_region(slot.frame, [np.ascontiguousarray(rgb[None])])
        frame = self._tc.InferInput(protocol.FRAME, [1, *rgb.shape], "UINT8")
        frame.set_shared_memory(slot.frame_name, slot.frame_bytes)
        mask = self._tc.InferRequestedOutput(protocol.MASK_BITS)  # MASK_SIZE is the frame's: not asked
        mask.set_shared_memory(slot.mask_name, slot.mask_bytes)
        h, w = rgb.shape[:2]

        def read_mask() -> np.ndarray:
            bits = shm.get_contents_as_numpy(slot.mask, np.uint8, (h, protocol.packed_width(w)))
            return protocol.unpack_mask(bits, w)  # a new array: the slot can be given back

        return [frame], [mask], read_mask, lambda: self._release(slot)

    def _take(self, shape: tuple[int, ...]) -> _Slot:
        while True:
            with self._changed:
                while shape in self._pools and not self._free[shape]:  # more requests than slots unfinished
                    self._changed.wait()  # (a pool with a busy slot is never retired: no wait forever)
                if shape in self._pools:
                    slot = self._free[shape].pop()
                    slot.busy, self._last_used[shape] = True, time.monotonic()
                    return slot
            self._build(shape)

    def _build(self, shape: tuple[int, ...]) -> None:
        with self._building:
            with self._changed:
                if shape in self._pools:  # another thread built it meanwhile
                    return
                self._generation += 1  # fresh names: retired regions may stay registered a while
                prefix = f"{self._prefix}_g{self._generation}"
            slots = [_Slot(self._client, prefix, i, shape) for i in range(self._count)]
            with self._changed:
                self._pools[shape], self._free[shape] = slots, list(slots)
                self._last_used[shape] = time.monotonic()

    def _release(self, slot: _Slot) -> None:
        with self._changed:
            slot.busy = False
            if slot in self._pools.get(slot.shape, ()):  # not retired meanwhile
                self._free[slot.shape].append(slot)
            self._changed.notify_all()

    def _retire_unused(self, unused_for_s: float) -> None:
        """Retire the pools, all but the latest used, that no request holds and none used for ``unused_for_s``."""
        now = time.monotonic()
        with self._changed:
            latest = max(self._last_used, key=self._last_used.get, default=None)
            for shape in [s for s in self._pools if s != latest]:
                pool = self._pools[shape]
                if now - self._last_used[shape] >= unused_for_s and not any(slot.busy for slot in pool):
                    self._retired += pool
                    del self._pools[shape], self._free[shape], self._last_used[shape]

    def collect(self, wait_s: float = 0.0, unused_for_s: float = 2.0) -> None:
        """Unregister and unlink the retired regions no request holds any more; those the server
        still calls in use are tried again here, until ``wait_s`` has passed, and on later calls.
        A pool of another frame size than the latest goes once ``unused_for_s`` pass without a request
        for it. Callers' threads only; each retired slot is handled by one of them."""
        self._retire_unused(unused_for_s)
        deadline = time.monotonic() + wait_s
        while True:
            with self._changed:
                idle = [s for s in self._retired if not s.busy]
                self._retired = [s for s in self._retired if s.busy]
            refused = [slot for slot in idle if not slot.unregister(self._client)]
            for slot in idle:
                if slot not in refused:
                    slot.unlink()
            with self._changed:
                self._retired += refused
            if not refused or time.monotonic() >= deadline:
                return
            time.sleep(0.02)

    def close(self, wait_s: float = 2.0) -> None:
        """Unregister and unlink every region; call once no request is in flight."""
        with self._changed:
            for pool in self._pools.values():
                self._retired += pool
            self._pools, self._free, self._last_used = {}, {}, {}
            for slot in self._retired:
                slot.busy = False
        self.collect(wait_s)
        with self._changed:
            stuck, self._retired = self._retired, []
        for slot in stuck:  # still registered after wait_s: unlink ours; the server drops its mapping
            slot.unlink()   # when it unregisters or restarts
