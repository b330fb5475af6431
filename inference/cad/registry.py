"""Which CAD models exist and which apply to a study.

Models are built once per worker process (weights load once) and kept here. Settings name
them: CAD_MODELS lists built-in or extra model classes as "package.module:ClassName", and
EXTERNAL_MODEL_MANIFESTS lists manifests of external TorchScript models (inference/cad/external.py).
"""

from __future__ import annotations

import functools
import importlib

from django.conf import settings

from inference.cad.base import CadModel, StudyInfo


def _load(path: str) -> CadModel:
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


@functools.lru_cache(maxsize=1)
def registered_models() -> tuple[CadModel, ...]:
    from inference.cad.external import ExternalModel

    built_in = tuple(_load(path) for path in settings.CAD_MODELS)
    external = tuple(ExternalModel(path) for path in getattr(settings, "EXTERNAL_MODEL_MANIFESTS", []))
    return built_in + external


def models_for_study(study: StudyInfo) -> list[CadModel]:
    return [model for model in registered_models() if model.applies_to(study)]
