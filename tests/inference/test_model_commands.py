"""train_model / evaluate_model dispatch to each model's own options."""

import pytest
from django.core.management import CommandError, call_command

from inference.cad.commands import MODEL_COMMANDS, model_command_modules


def test_every_installed_model_offers_train_and_evaluate():
    modules = model_command_modules()
    assert "lung_nodule" in modules
    assert set(modules) <= set(MODEL_COMMANDS)
    for module in modules.values():
        for name in ("add_train_arguments", "train", "add_evaluate_arguments", "evaluate"):
            assert callable(getattr(module, name))


def test_the_model_options_are_checked_by_the_model():
    with pytest.raises(CommandError, match="at least two scans"):
        call_command("train_model", "lung_nodule", "--scans", "1")


def test_an_unknown_model_is_refused():
    with pytest.raises(CommandError):
        call_command("train_model", "no_such_model")
