"""``python -m zoo export`` and ``python -m zoo predict``: the trained model out of Python, and its predictions.

Both check everything they can before TensorFlow starts: the format name, the
run directory against its manifest, the input file and its width, the words of
a text. So a mistake answers at once, in one line, and nothing is written.
"""

from __future__ import annotations

import json

from . import cli

COMMANDS = ("export", "predict")


def add_parsers(sub) -> None:
    """Add ``export`` and ``predict`` to ``python -m zoo``'s subcommands."""
    from .exporting import FORMATS

    ex = sub.add_parser("export", help="export a trained run (saved_model, onnx, litert, keras), verified in its own "
                                       "runtime against Keras on the test split")
    ex.add_argument("run_dir", help="a python -m zoo train run, a python -m zoo.word2vec train folder (its vectors), "
                                    "or preset:NAME (python -m zoo presets)")
    ex.add_argument("--format", required=True, help=f"one of {', '.join(FORMATS)}")
    ex.add_argument("--out", required=True,
                    help="the export's path (ending .saved_model, .onnx, .tflite or .keras) or a folder for "
                         "RUN_NAME.<suffix>; the report goes beside it as <export>.json")
    ex.add_argument("--data", help="verify on these samples (.npz or .csv, raw as for predict) instead of the test split")
    ex.add_argument("--prepared", action="store_true", help="--data is already prepared as the model takes it")
    _header_flags(ex)
    ex.add_argument("--data-path", help="file or folder to look in first for the data (Reuters)")
    ex.add_argument("--overwrite", action="store_true", help="replace an existing export once the new one is verified")
    pr = sub.add_parser("predict", help="the top classes of new samples, with probabilities")
    pr.add_argument("run_dir", help="a python -m zoo train run, or a preset (reuters_mlp:reuters, preset:small_cnn)")
    given = pr.add_mutually_exclusive_group(required=True)
    given.add_argument("--data", help=".npz (array x, else its first array) or .csv of raw features, read a chunk at a "
                                      "time; a first row with no number in it is a header")
    given.add_argument("--text", action="append", help="a text to classify (Reuters models); repeat for several")
    pr.add_argument("--top", type=int, default=3, help="how many classes to print per sample (default 3)")
    pr.add_argument("--prepared", action="store_true", help="--data is already prepared (scaled) as the model takes it")
    pr.add_argument("--data-path", help="file or folder to look in first for the Reuters word index")
    pr.add_argument("--json", action="store_true", help="print JSON instead of one line per sample")
    _header_flags(pr)


def _header_flags(parser) -> None:
    head = parser.add_mutually_exclusive_group()
    head.add_argument("--header", dest="header", action="store_true", default=None,
                      help="the --data CSV's first row is a header (skip it, whatever it holds)")
    head.add_argument("--no-header", dest="header", action="store_false",
                      help="the --data CSV's first row is data (default: a header exactly when none of its cells is a "
                           "number; a row of numbers and text is refused)")


def _check_header(args) -> None:
    if args.header is not None and (args.data is None or not args.data.lower().endswith(".csv")):
        raise ValueError("header: --header/--no-header go with a .csv given as --data")


def main(args) -> int:
    return _export(args) if args.command == "export" else _predict(args)


def _export(args) -> int:
    from . import exporting, presets, serving

    if presets.is_reference(args.run_dir):
        return _export_preset(args)
    run, dest = exporting.plan(args.run_dir, args.format, args.out, overwrite=args.overwrite, data_path=args.data_path)
    data = None
    _check_header(args)
    if args.data is not None:
        if run.kind != "classifier":
            raise ValueError("data: a Word2Vec export is verified on every row of its table; --data is for classifiers")
        raw = serving.read_inputs(args.data, header=args.header)  # verification holds the samples: not streamed
        data = run.preprocessor.check_shape(raw) if args.prepared else run.preprocessor.prepare(raw)
    cli.import_tensorflow()
    report = exporting.export(run.path, args.format, args.out, data=data, prepared=True, overwrite=args.overwrite,
                              data_path=args.data_path)
    print(summary(report))
    print(f"report: {report['path']}.json")
    return 0


def _export_preset(args) -> int:
    """``export preset:NAME``: the preset's checked weights, exported as a run's are (:func:`zoo.presets.export`)."""
    from . import exporting, presets, serving

    exporting.check_format(args.format)
    preset = presets.checked(args.run_dir)  # before TensorFlow: a failing file is named and nothing is loaded
    # The destination too: the export is named after the preset's folder, as a run's after its directory.
    from types import SimpleNamespace

    dest = exporting.destination(SimpleNamespace(path=preset.folder), args.format, args.out)
    if (dest.exists() or dest.is_symlink()) and not args.overwrite:
        raise ValueError(f"out: {dest} exists; pass --overwrite to replace it once the new export is verified, "
                         "or choose another --out")
    data = None
    _check_header(args)
    if args.data is not None:
        if preset.kind != "classifier":
            raise ValueError("data: a Word2Vec export is verified on every row of its table; --data is for classifiers")
        data = serving.read_inputs(args.data, header=args.header)
    report = presets.export(args.run_dir, args.format, args.out, data=data, prepared=args.prepared,
                            overwrite=args.overwrite, data_path=args.data_path)
    print(summary(report).replace(f"exported {report['model']}", f"exported preset {preset.name}", 1))
    print(f"report: {report['path']}.json")
    return 0


def summary(report: dict) -> str:
    """One paragraph: what was written and how well it agrees with Keras."""
    n = report["samples"]
    if report["compared"] == "probabilities":
        agreement = f"argmax agrees on {n - report['argmax_disagreements']:,}/{n:,}, max |probability difference|"
    else:
        agreement = "max |vector component difference|"
    text = (f"exported {report['model']} to {report['path']} ({report['bytes']:,} bytes, computes in "
            f"{report['computes_in'].split(' ')[0]}); verified with {report['runtime']} on {n:,} "
            f"{'samples' if report['compared'] == 'probabilities' else 'words'}: {agreement} "
            f"{report['max_abs_diff']:.2g} (tolerance {report['tolerance']:g})")
    bf = report.get("vs_keras_as_trained")
    if bf:
        text += (f"; against the model as trained (bfloat16 layers): argmax agrees on "
                 f"{bf['samples'] - bf['argmax_disagreements']:,}/{bf['samples']:,}, max |probability difference| "
                 f"{bf['max_abs_diff']:.2g} (tolerance {bf['tolerance']:g})")
    return text


def _preset_run(preset):
    """The run a preset stands for, for ``predict`` (its shapes from the record: no TensorFlow yet)."""
    from .presets import loading

    if preset.kind != "classifier":
        raise ValueError(f"run_dir: {preset.name} is a Word2Vec preset; predict is for classifiers "
                         f"(use zoo.load('preset:{preset.name}').most_similar(word))")
    return loading.run_of(preset)


def _predict(args) -> int:
    from . import presets, serving

    preset = presets.checked(args.run_dir) if presets.is_reference(args.run_dir) else None  # files checked, no TF yet
    run = _preset_run(preset) if preset is not None else serving.open_run(args.run_dir, data_path=args.data_path)
    if run.kind != "classifier":
        raise ValueError(f"run_dir: {run.path} is a Word2Vec run; predict is for classifiers (its vectors are in "
                         "vectors.txt, or use zoo.load(run_dir).predict(words))")
    if not 1 <= args.top <= run.num_outputs:
        raise ValueError(f"top must be an integer from 1 to {run.num_outputs} (the model's classes), got {args.top}")
    pre = run.preprocessor
    _check_header(args)
    if args.text is not None:
        if args.prepared:
            raise ValueError("prepared: --prepared goes with --data, not --text")
        labels = [t if len(t) <= 40 else t[:37] + "..." for t in args.text]
        pieces = iter([(labels, pre.encode_text(args.text))])
    else:
        pieces = _prepared_pieces(args, pre)
    out = _Printer(args.json)
    model = None
    try:
        for labels, x in pieces:  # a chunk at a time: a CSV larger than memory streams through
            if model is None:  # after the first chunk is checked: a bad input answers before TensorFlow starts
                cli.import_tensorflow()
                model = _load_model(run, preset)
            out.write(labels, serving.top_classes(serving.predict_prepared(model, x), pre.class_names, args.top))
    except ValueError as exc:
        if out.printed:  # the samples before the bad one went out already: say so
            raise ValueError(f"{exc}; the {out.printed:,} samples before it were printed") from None
        raise
    out.close()
    return 0


def _load_model(run, preset):
    """The Keras model behind ``predict``: a preset's checked weights, or the run's ``model.keras``."""
    from . import rundir

    if preset is not None:
        from .presets import loading

        return loading.keras_model(preset)
    return rundir.load_model(run.model_path)


def _prepared_pieces(args, pre):
    """``(labels, prepared samples)`` for each chunk of ``--data``, labelled by sample number."""
    from . import serving

    for first, raw in serving.iter_inputs(args.data, header=args.header):
        x = pre.check_shape(raw, first=first) if args.prepared else pre.prepare(raw, first=first)
        yield [str(first + i) for i in range(len(x))], x


class _Printer:
    """One line per sample, or one JSON list written an item at a time (the same text ``json.dumps(indent=2)`` gives)."""

    def __init__(self, as_json: bool):
        self.as_json, self.printed = as_json, 0

    def write(self, labels, tops) -> None:
        import sys

        from . import rundir

        if self.as_json:
            items = [json.dumps({"sample": label, "top": [{"class": c, "probability": round(p, 6)} for c, p in top]},
                                indent=2).replace("\n", "\n  ") for label, top in zip(labels, tops)]
            text = ("[\n  " if not self.printed else ",\n  ") + ",\n  ".join(items)
        else:
            text = "".join(f"{label}: " + "  ".join(f"{rundir.printable(c)} {p:.4f}" for c, p in top) + "\n"  # names: untrusted
                           for label, top in zip(labels, tops))
        sys.stdout.write(text)
        self.printed += len(labels)

    def close(self) -> None:
        if self.as_json:
            print("\n]")
