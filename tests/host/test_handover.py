"""The GPU hand-over of the AUTOMATIC1111 and Forge adapters, in the order the hosts need."""

from __future__ import annotations

import threading

from wan.host.locks import file_gpu_lock
from wan.webui.hosts import ForgeHost, WebUIHost, make_host


def test_make_host_tells_forge_from_a1111(webui):
    host = make_host(webui.namespace())
    assert type(host) is (ForgeHost if webui.kind == "forge" else WebUIHost)
    assert host.name == ("forge" if webui.kind == "forge" else "automatic1111")


def test_a1111_frees_its_model_only_under_the_lock_and_gets_it_back(a1111):
    host = make_host(a1111.namespace())
    model = a1111.sd_models.model_data.sd_model
    host.free_host_memory()  # the Runner asks before the lock: a txt2img may still be sampling
    assert a1111.calls == []
    with host.gpu_lock():
        assert a1111.call_queue.queue_lock.locked()
        assert model.device == "cpu"
        assert a1111.names() == [
            "queue_lock.acquire",
            "state.begin",
            "unload_model_weights",
            "send_model_to_cpu",
            "torch_gc",
            "torch_gc",
        ]
        assert a1111.calls[2] == ("unload_model_weights", model)  # passed: never shared.sd_model
        a1111.calls.clear()
    assert a1111.names() == ["torch_gc", "send_model_to_device", "state.end", "queue_lock.release"]
    assert model.device == "cuda"
    host.release()
    assert not a1111.call_queue.queue_lock.locked()


def test_a1111_with_no_model_loaded_unloads_nothing(a1111):
    a1111.sd_models.model_data.sd_model = None
    host = make_host(a1111.namespace())
    host.free_host_memory()
    with host.gpu_lock():
        pass
    names = a1111.names()
    assert "unload_model_weights" not in names and "send_model_to_device" not in names
    assert "torch_gc" in names


def test_a1111_lowvram_model_comes_back_through_the_hosts_own_hooks(a1111):
    model = a1111.sd_models.model_data.sd_model
    model.lowvram = True
    host = make_host(a1111.namespace())
    with host.gpu_lock():
        host.free_host_memory()  # inside the lock: at once
        assert "unload_model_weights" in a1111.names()
    assert "send_model_to_device" not in a1111.names()


def test_a1111_does_not_send_back_a_model_the_host_replaced(a1111):
    host = make_host(a1111.namespace())
    host.free_host_memory()
    with host.gpu_lock():
        a1111.sd_models.model_data.sd_model = a1111.sd_models.StandInModel("other")
    assert "send_model_to_device" not in a1111.names()


def test_forge_with_no_checkpoint_has_nothing_to_unload(forge):
    assert type(forge.sd_models.model_data.sd_model).__name__ == "FakeInitialModel"
    host = make_host(forge.namespace())
    host.free_host_memory()
    with host.gpu_lock():
        pass
    assert "unload_all_models" not in forge.names()
    assert "soft_empty_cache" in forge.names()


def test_forge_unloads_its_models_then_empties_the_cache_and_lets_them_come_back(forge):
    forge.memory_management.current_loaded_models.append(object())
    host = make_host(forge.namespace())
    host.free_host_memory()
    with host.gpu_lock():
        names = forge.names()
        assert names.index("unload_all_models") < names.index("soft_empty_cache", 2)
        assert forge.calls[names.index("unload_all_models")] == ("unload_all_models", 1)
    assert "send_model_to_device" not in forge.names()  # Forge reloads it when it samples


def test_file_lock_is_taken_before_the_queue_lock_and_given_back_after(webui):
    host = make_host(webui.namespace())
    order = []
    webui.call_queue.queue_lock.observer = lambda event: order.append(
        (event, file_gpu_lock().is_locked)
    )
    with host.gpu_lock():
        pass
    assert order == [("acquire", True), ("release", True)]
    assert not file_gpu_lock().is_locked


def test_gpu_lock_is_reentrant_in_its_thread_and_exclusive_across_threads(webui):
    host = make_host(webui.namespace())
    other: list[bool] = []

    def try_from_another_thread():
        got = webui.call_queue.queue_lock.acquire(blocking=False)
        other.append(got)
        if got:
            webui.call_queue.queue_lock.release()

    with host.gpu_lock(), host.gpu_lock():  # the host's FIFOLock is not re-entrant
        thread = threading.Thread(target=try_from_another_thread)
        thread.start()
        thread.join()
    assert other == [False]
    assert webui.names().count("queue_lock.acquire") == 1
    assert not webui.call_queue.queue_lock.locked()


def test_gpu_lock_alone_takes_the_gpu_without_touching_the_hosts_model(webui):
    """The API's prompt enhancer holds the lock without asking for the host's memory."""
    host = make_host(webui.namespace())
    with host.gpu_lock():
        pass
    names = webui.names()
    assert "unload_model_weights" not in names and "unload_all_models" not in names
    assert not webui.call_queue.queue_lock.locked()


def test_a_free_asked_in_another_thread_is_not_done_by_this_one(a1111):
    host = make_host(a1111.namespace())
    thread = threading.Thread(target=host.free_host_memory)
    thread.start()
    thread.join()
    with host.gpu_lock():
        pass
    assert "unload_model_weights" not in a1111.names()


def test_release_forgets_an_unused_request_and_empties_the_cache(a1111):
    host = make_host(a1111.namespace())
    host.free_host_memory()
    host.release()
    with host.gpu_lock():
        pass
    assert "unload_model_weights" not in a1111.names()
    assert a1111.names()[0] == "torch_gc"


def test_state_begins_with_known_counts(webui):
    """The host's progress API divides by job_count while sampling_steps is set; begin() keeps
    the last txt2img's sampling_steps."""
    state = webui.shared.state
    state.sampling_steps, state.interrupted = 20, True
    host = make_host(webui.namespace())
    assert not host.interrupted()  # outside a hold: never the host's leftover flag
    with host.gpu_lock():
        assert (state.job, state.job_count, state.job_no) == ("wan", 1, 0)
        assert (state.sampling_step, state.sampling_steps) == (0, 0)
        assert state.textinfo == "Wan: loading" and not host.interrupted()
        state.interrupt()
        assert host.interrupted()
    assert not host.interrupted() and state.job == ""
