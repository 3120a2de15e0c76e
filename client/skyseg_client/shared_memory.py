"""System shared memory for raw frames: the frame and its mask bits never travel over the socket.

Only for a server on the same host (``/dev/shm`` is shared). A ring of regions, one more than the
requests that can be in flight, holds each request's frame and mask; results come back in order,
so a region is always free again by the time the ring returns to it. When the frame size changes
the old ring is retired, not destroyed: requests still in flight write into it (unregistering a
region under a running request stalls it), and it goes once a full ring of new requests has passed.
"""
from __future__ import annotations

import os
import uuid

import numpy as np
import tritonclient.utils.shared_memory as shm

from . import protocol


def _packed_width(width: int) -> int:
    return -(-width // 8)


class _Slot:
    def __init__(self, client, prefix: str, index: int, frame_bytes: int, mask_bytes: int) -> None:
        self.frame_name, self.mask_name = f"{prefix}_frame{index}", f"{prefix}_mask{index}"
        self.frame_bytes, self.mask_bytes = frame_bytes, mask_bytes
        self.frame = shm.create_shared_memory_region(self.frame_name, f"/{self.frame_name}", frame_bytes)
        self.mask = shm.create_shared_memory_region(self.mask_name, f"/{self.mask_name}", mask_bytes)
        try:
            client.register_system_shared_memory(self.frame_name, f"/{self.frame_name}", frame_bytes)
            client.register_system_shared_memory(self.mask_name, f"/{self.mask_name}", mask_bytes)
        except Exception:
            self.destroy(client)
            raise

    def destroy(self, client) -> None:
        for name, handle in ((self.frame_name, self.frame), (self.mask_name, self.mask)):
            try:
                client.unregister_system_shared_memory(name)
            except Exception:  # noqa: BLE001 - the server may be gone; the local region still goes
                pass
            shm.destroy_shared_memory_region(handle)


class FrameRing:
    """Regions for frames of one size; rebuilt when the size changes (a new video)."""

    def __init__(self, client, tc, slots: int) -> None:
        self._client, self._tc, self._count = client, tc, max(2, slots)
        self._prefix = f"skyseg_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._slots: list[_Slot] = []
        self._shape: tuple[int, ...] | None = None
        self._next = 0
        self._retired: list[_Slot] = []
        self._retired_countdown = 0
        self._generation = 0

    def request(self, rgb: np.ndarray):
        """(inputs, outputs, read_mask) for one frame; ``read_mask()`` copies the mask out."""
        if rgb.shape != self._shape:
            self._destroy(self._retired)
            self._retired, self._retired_countdown = self._slots, self._count
            h, w = rgb.shape[:2]
            self._generation += 1  # fresh names: the retired regions stay registered a while
            prefix = f"{self._prefix}_g{self._generation}"
            self._slots = [_Slot(self._client, prefix, i, rgb.nbytes, h * _packed_width(w))
                           for i in range(self._count)]
            self._shape, self._next = rgb.shape, 0
        elif self._retired_countdown:
            self._retired_countdown -= 1
            if not self._retired_countdown:
                self._destroy(self._retired)
                self._retired = []
        slot = self._slots[self._next]
        self._next = (self._next + 1) % len(self._slots)
        shm.set_shared_memory_region(slot.frame, [np.ascontiguousarray(rgb[None])])
        frame = self._tc.InferInput(protocol.FRAME, [1, *rgb.shape], "UINT8")
        frame.set_shared_memory(slot.frame_name, slot.frame_bytes)
        mask = self._tc.InferRequestedOutput(protocol.MASK_BITS)  # MASK_SIZE is the frame's: not asked
        mask.set_shared_memory(slot.mask_name, slot.mask_bytes)
        h, w = rgb.shape[:2]

        def read_mask() -> np.ndarray:
            bits = shm.get_contents_as_numpy(slot.mask, np.uint8, (h, _packed_width(w)))
            return protocol.unpack_mask(bits, w)  # a new array: the slot is free for the next frame
        return [frame], [mask], read_mask

    def _destroy(self, slots: list[_Slot]) -> None:
        for slot in slots:
            slot.destroy(self._client)

    def close(self) -> None:
        """Unregister and unlink every region; call once no request is in flight."""
        self._destroy(self._slots + self._retired)
        self._slots, self._retired, self._shape, self._next = [], [], None, 0
