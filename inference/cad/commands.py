"""The built-in models that `train_model` and `evaluate_model` know, by name.

Each name points at a module with add_train_arguments(parser), train(options, out=, err=),
add_evaluate_arguments(parser) and evaluate(options, out=, err=). A model whose package is not
installed is left out rather than breaking the commands of the others.
"""

from __future__ import annotations

import importlib
import importlib.util

MODEL_COMMANDS = {
    "lung_nodule": "inference.cad.lung_nodule.commands",
    "mammography": "inference.cad.mammography.commands",
    "prostate": "inference.cad.prostate.commands",
}


def model_command_modules() -> dict:
    present = {}
    for name, path in MODEL_COMMANDS.items():
        if importlib.util.find_spec(path.rpartition(".")[0]) is not None and importlib.util.find_spec(path):
            present[name] = importlib.import_module(path)
    return present


def add_model_subcommands(command, parser, kind: str) -> None:
    """One sub-command per model; `kind` is "train" or "evaluate"."""
    from django.core.management.base import CommandParser

    sub = parser.add_subparsers(dest="model", required=True, parser_class=CommandParser, title="model")
    for name, module in model_command_modules().items():
        model_parser = sub.add_parser(name, called_from_command_line=command._called_from_command_line)
        getattr(module, f"add_{kind}_arguments")(model_parser)
