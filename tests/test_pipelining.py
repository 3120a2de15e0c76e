"""How ``SkySegClient`` keeps requests in flight: the scheduling alone, with the transport replaced by
futures this test completes in the order it chooses (the server's side is tested in test_server)."""
import threading
import time
from concurrent.futures import Future

from skyseg_client import SkySegClient


def _wait_for(condition, what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def _client_with_manual_requests(max_in_flight: int):
    client = SkySegClient("127.0.0.1:1", max_in_flight=max_in_flight)  # never contacted
    sent: list[tuple[int, Future]] = []

    def submit(image):
        future: Future = Future()
        sent.append((image, future))
        return future
    client._submit_safely = submit
    return client, sent


def test_a_finished_request_frees_its_place_while_the_oldest_still_runs():
    client, sent = _client_with_manual_requests(max_in_flight=2)
    got: list = []
    consumer = threading.Thread(target=lambda: got.extend(client._pipelined(iter(range(6)), lambda i: i)), daemon=True)
    consumer.start()
    _wait_for(lambda: len(sent) == 2, "two requests in flight")
    time.sleep(0.05)
    assert len(sent) == 2, "more requests than max_in_flight went out"
    sent[1][1].set_result("mask 1")  # the newer one finishes first
    _wait_for(lambda: len(sent) == 3, "a third request in the freed place")
    assert not got, "a result was handed back before the older request finished"
    sent[0][1].set_result("mask 0")
    _wait_for(lambda: len(sent) == 4, "a fourth request")
    for i in range(2, 6):
        _wait_for(lambda: len(sent) > i, f"request {i}")
        sent[i][1].set_result(f"mask {i}")
    consumer.join(timeout=10)
    assert got == [f"mask {i}" for i in range(6)]  # in input order
    client.close()


def test_finished_results_waiting_for_an_old_request_are_bounded():
    client, sent = _client_with_manual_requests(max_in_flight=2)
    window = 2 * 4  # REORDER_WINDOW per place
    consumer = threading.Thread(target=lambda: list(client._pipelined(iter(range(50)), lambda i: i)), daemon=True)
    consumer.start()
    _wait_for(lambda: len(sent) == 2, "two requests in flight")
    finished, deadline = 1, time.monotonic() + 10
    while finished < len(sent) or len(sent) < window:  # all but the oldest finish, one by one
        assert time.monotonic() < deadline, f"stalled with {len(sent)} sent, {finished - 1} finished"
        if finished < len(sent):
            sent[finished][1].set_result(finished)
            finished += 1
        else:
            time.sleep(0.005)
        assert len(sent) <= window
    time.sleep(0.05)
    assert len(sent) == window, "the reorder window was not respected"
    for i, (_, future) in enumerate(sent):
        if not future.done():
            future.set_result(i)
    while len(sent) < 50 or not all(f.done() for _, f in sent):
        assert time.monotonic() < deadline + 10, "the pipeline did not drain"
        for i, (_, future) in enumerate(list(sent)):
            if not future.done():
                future.set_result(i)
        time.sleep(0.001)
    consumer.join(timeout=10)
    assert not consumer.is_alive()
    client.close()
