"""An inference worker loads its models when its process starts, not on its first study."""

import threading

import pytest

from config import celery as celery_config
from inference.cad import registry


class CountsLoads:
    name, version = "counts_loads", "0.1"
    loads = 0

    def network(self):
        type(self).loads += 1
        return object(), {}


class CannotLoad(CountsLoads):
    name = "cannot_load"

    def network(self):
        raise OSError("weights file missing")


@pytest.fixture
def fresh_registry(settings):
    registry.registered_models.cache_clear()
    CountsLoads.loads = 0
    yield settings
    registry.registered_models.cache_clear()


def test_every_model_loads_its_weights_and_one_failure_stops_none(fresh_registry):
    fresh_registry.CAD_MODELS = ["tests.inference.test_models_warm:CannotLoad",
                                 "tests.inference.test_models_warm:CountsLoads"]
    registry.models_warm()
    assert CountsLoads.loads == 1


def test_the_deployed_models_hold_their_weights_after_warming(fresh_registry):
    registry.models_warm()
    lazy = [m for m in registry.registered_models() if hasattr(m, "_net")]
    assert lazy, "the built-in models load their weights lazily into _net"
    assert all(m._net is not None for m in lazy)


@pytest.mark.parametrize(("queues", "warmed"), [(["inference"], True), ("default,inference", True),
                                                (["default"], False), ([], False)])
def test_only_a_worker_serving_the_inference_queue_warms(fresh_registry, queues, warmed):
    fresh_registry.CAD_MODELS = ["tests.inference.test_models_warm:CountsLoads"]
    celery_config._note_inference_worker(options={"queues": queues})
    try:
        celery_config._warm_models()
        for thread in threading.enumerate():
            if thread.name == "models-warm":
                thread.join(timeout=60)
    finally:
        celery_config._WARM["models"] = False
    assert CountsLoads.loads == (1 if warmed else 0)
