"""Which CAD models exist and which apply to a study.

Models are built once per worker process (weights load once) and kept here. Settings name
them: CAD_MODELS lists built-in or extra model classes as "package.module:ClassName", and
EXTERNAL_MODEL_MANIFESTS lists manifests of external TorchScript models (inference/cad/external.py).
"""

from __future__ import annotations

import functools
import importlib
import logging

from django.conf import settings

from inference.cad.base import CadModel, StudyInfo

logger = logging.getLogger(__name__)


def _load(path: str) -> CadModel:
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


@functools.lru_cache(maxsize=1)
def registered_models() -> tuple[CadModel, ...]:
    from inference.cad.external import ExternalModel

    built_in = tuple(_load(path) for path in settings.CAD_MODELS)
    external = tuple(ExternalModel(path) for path in getattr(settings, "EXTERNAL_MODEL_MANIFESTS", []))
    return built_in + external


def models_warm() -> None:
    """Build every model and load its weights now (a worker's start), never failing the worker:
    a model that cannot load fails on its first study instead, where the failure is shown."""
    try:
        models = registered_models()
    except Exception:  # noqa: BLE001 - the first study reports it
        logger.exception("the CAD models could not be built ahead of the first study")
        return
    for model in models:
        network = getattr(model, "network", None)  # built-in models load their weights lazily
        if callable(network):
            try:
                network()
            except Exception:  # noqa: BLE001
                logger.exception("model %s could not load its weights ahead of the first study", model.name)
    logger.info("CAD models ready: %s", ", ".join(f"{m.name} {m.version}" for m in models))


def models_for_study(study: StudyInfo) -> tuple[list[CadModel], list[str]]:
    """The models that read this study, and why any model could not tell ("name: reason").

    Deciding may read headers from the archive; an archive outage propagates (the task retries),
    any other error is one model's failure, shown on the study, and does not stop the others."""
    from archive.orthanc import OrthancUnavailable

    chosen, failures = [], []
    for model in registered_models():
        try:
            if model.applies_to(study):
                chosen.append(model)
        except OrthancUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded on the study, never hides it
            logger.exception("model %s could not decide whether it reads study %s", model.name, study.study_id)
            failures.append(f"{model.name}: could not read the study's headers ({type(exc).__name__}: {exc})"[:300])
    return chosen, failures
