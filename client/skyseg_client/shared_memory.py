"""System shared memory for raw frames: the frame and its mask bits never travel over the socket.

Only for a server on the same host (``/dev/shm`` is shared). A pool of regions, one more than the
requests that can be in flight, holds each request's frame and mask bits. A request takes a free
slot and gives it back once its mask has been copied out, so requests may finish in any order.
When the frame size changes the old slots are retired, not destroyed: requests still in flight
write into them, and they go once every one of them has been given back and the server has let
go of them (Triton refuses to unregister a region a request still references).
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
    def __init__(self, client, prefix: str, index: int, frame_bytes: int, mask_bytes: int) -> None:
        self.frame_name, self.mask_name = f"{prefix}_frame{index}", f"{prefix}_mask{index}"
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
    """Regions for frames of one size; rebuilt when the size changes (a new video).

    ``request`` is called from the caller's thread; ``release`` may come from a gRPC callback
    thread, so the free list is guarded, and regions are only ever destroyed in the caller's
    thread (an RPC from inside a callback could wait on itself).
    """

    def __init__(self, client, tc, slots: int) -> None:
        self._client, self._tc, self._count = client, tc, max(2, slots)
        self._prefix = f"skyseg_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._slots: list[_Slot] = []
        self._free: list[_Slot] = []
        self._retired: list[_Slot] = []
        self._shape: tuple[int, ...] | None = None
        self._generation = 0
        self._changed = threading.Condition()

    def request(self, rgb: np.ndarray) -> tuple[list, list, Callable[[], np.ndarray], Callable[[], None]]:
        """(inputs, outputs, read_mask, release) for one frame. ``read_mask()`` copies the mask
        out; ``release()`` gives the slot back and must follow exactly once, read or failed."""
        if rgb.shape != self._shape:
            self._rebuild(rgb.shape)
        self.collect()
        slot = self._take()
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

    def _rebuild(self, shape: tuple[int, ...]) -> None:
        h, w = shape[:2]
        self._generation += 1  # fresh names: the retired regions stay registered a while
        prefix = f"{self._prefix}_g{self._generation}"
        frame_bytes = int(np.prod(shape))
        mask_bytes = h * protocol.packed_width(w)
        slots = [_Slot(self._client, prefix, i, frame_bytes, mask_bytes) for i in range(self._count)]
        with self._changed:
            self._retired += self._slots
            self._slots, self._free, self._shape = slots, list(slots), shape

    def _take(self) -> _Slot:
        with self._changed:
            while not self._free:  # only when more requests than slots are unfinished
                self._changed.wait()
            slot = self._free.pop()
            slot.busy = True
            return slot

    def _release(self, slot: _Slot) -> None:
        with self._changed:
            slot.busy = False
            if slot in self._slots:  # not retired meanwhile
                self._free.append(slot)
            self._changed.notify()

    def collect(self, wait_s: float = 0.0) -> None:
        """Unregister and unlink the retired regions no request holds any more; those the server
        still calls in use are tried again here, until ``wait_s`` has passed, and on later calls.
        The caller's thread only."""
        deadline = time.monotonic() + wait_s
        while True:
            with self._changed:
                idle = [s for s in self._retired if not s.busy]
            done = [slot for slot in idle if slot.unregister(self._client)]
            for slot in done:
                slot.unlink()
            with self._changed:
                self._retired = [s for s in self._retired if s not in done]
                refused = [s for s in self._retired if not s.busy]
            if not refused or time.monotonic() >= deadline:
                return
            time.sleep(0.02)

    def close(self, wait_s: float = 2.0) -> None:
        """Unregister and unlink every region; call once no request is in flight."""
        with self._changed:
            self._retired += self._slots
            self._slots, self._free, self._shape = [], [], None
            for slot in self._retired:
                slot.busy = False
        self.collect(wait_s)
        with self._changed:
            stuck, self._retired = self._retired, []
        for slot in stuck:  # still registered after wait_s: unlink ours; the server drops its mapping
            slot.unlink()   # when it unregisters or restarts
