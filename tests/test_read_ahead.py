"""The client's decode-ahead thread: order kept, errors re-raised in the caller, no thread left behind."""
import threading
import time

import pytest

from skyseg_client.client import read_ahead


def test_items_arrive_in_order_and_the_reader_runs_ahead():
    pulled = []

    def source():
        for i in range(20):
            pulled.append(i)
            yield i

    stream = read_ahead(source(), depth=3)
    assert next(stream) == 0
    time.sleep(0.3)
    assert len(pulled) >= 4  # the reader filled its buffer while the caller was busy
    assert [0, *stream] == list(range(20))


def test_a_source_error_reaches_the_caller_after_the_good_items():
    def source():
        yield 1
        yield 2
        raise OSError("camera unplugged")

    stream = read_ahead(source(), depth=2)
    assert next(stream) == 1 and next(stream) == 2
    with pytest.raises(OSError, match="camera unplugged"):
        next(stream)


def test_closing_early_stops_the_reader():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    before = {t.ident for t in threading.enumerate()}
    stream = read_ahead(endless(), depth=2)
    assert next(stream) == 0
    stream.close()
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.name == "skyseg-read-ahead"]
    assert not leftover
