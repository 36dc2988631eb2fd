"""The cross-check: gensim ``Word2Vec`` and :func:`zoo.word2vec.train`, same settings, same corpus.

:func:`compare` trains gensim with the settings, then this implementation with the
very same dict, then gensim again with another seed (the yardstick for how much
two equally good runs differ), and measures with gensim's own evaluators:

* training words/second of both and their ratio (:data:`zoo.word2vec.WORDS_PER_SECOND`);
* WordSim-353 and SimLex-999 Spearman correlations (``evaluate_word_pairs``);
* analogy accuracy on ``questions-words.txt``, overall and per section (``evaluate_word_analogies``);
* the mean overlap of the top-10 neighbours of fixed probe words, ours against
  both gensim runs, next to gensim against gensim with another seed.

The bars (set for the Reuters corpus with gensim's defaults): WordSim-353
within 0.05 of gensim's, analogy accuracy within 1.5 points, and a neighbour overlap
of at least 80% of gensim-vs-gensim.
"""

from __future__ import annotations

import os
import platform
import time

from .evaluation import TOPN, evaluate, neighbour_overlap  # noqa: F401  (part of this module's API)
from .settings import check_settings, gensim_settings
from .trainer import WORDS_PER_SECOND, resolve_corpus, train

#: The bars of the cross-check (see above).
WORDSIM_TOLERANCE = 0.05
ANALOGY_TOLERANCE = 0.015
OVERLAP_FRACTION = 0.8

#: Probe words for the neighbour overlap: common, meaningful words of each corpus
#: (all occur more than 25 times). Other corpora: see :func:`default_probes`.
PROBES = {
    "reuters": ("oil gold dollar bank trade japan profit shares wheat coffee stock rate government billion sugar "
                "crude tax exports president company loss prices yen germany debt").split(),
    "lee": ("australia government police people president minister afghanistan world israeli palestinian "
            "security hospital fire company bank test court united year report").split(),
}


def cpu_count() -> int:
    """Cores this process may use (gensim's ``workers`` in the cross-check and the benchmark)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_probes(corpus_name: str, words: list) -> list:
    """The fixed probes of a known corpus; otherwise the 25 most frequent words of at
    least 3 letters that are not stop words (gensim's list)."""
    if corpus_name in PROBES:
        return list(PROBES[corpus_name])
    from gensim.parsing.preprocessing import STOPWORDS

    return [w for w in words if len(w) >= 3 and w.isalpha() and w not in STOPWORDS][:25]


def check_probes(probes, vocabulary: set, corpus_name: str) -> list:
    """Every probe must be a word of the vocabulary.

    Raises:
        ValueError: names the unknown probe(s), with close matches.
    """
    if isinstance(probes, str):
        probes = [p for p in probes.replace(",", " ").split() if p]
    probes = list(probes)
    if not probes:
        raise ValueError("probes: give at least one probe word")
    missing = [p for p in probes if p not in vocabulary]
    if missing:
        import difflib

        hints = []
        for word in missing:
            close = difflib.get_close_matches(str(word), vocabulary, n=2, cutoff=0.75)
            hints.append(f"{word!r}" + (f" (close: {', '.join(close)})" if close else ""))
        raise ValueError(f"probes: not in the vocabulary of corpus {corpus_name}: {', '.join(hints)}; "
                         "use words that occur at least min_count times")
    return probes


def train_gensim(corpus, settings: dict):
    """gensim ``Word2Vec(**settings)``: vocabulary (untimed), then timed training.

    Returns:
        ``(model, seconds)``: the trained gensim model and its wall-clock training seconds.
    """
    from gensim.models import Word2Vec

    model = Word2Vec(**settings)
    model.build_vocab(corpus)
    start = time.perf_counter()
    model.train(corpus, total_examples=model.corpus_count, epochs=model.epochs)
    return model, time.perf_counter() - start


def compare(corpus="reuters", *, probes=None, progress: bool = True, data_path=None, tokenizer: str = "simple",
            **settings) -> dict:
    """Train gensim and this implementation with the same settings; return the side-by-side report.

    Args:
        corpus: as for :func:`zoo.word2vec.train`.
        probes: probe words for the neighbour overlap (default: :func:`default_probes`).
        progress: show our progress bar.
        data_path: where to look first for the Reuters files.
        tokenizer: for text files, ``"simple"`` or ``"whitespace"`` (as for :func:`zoo.word2vec.train`).
        **settings: gensim's settings (and the engine's). gensim's ``workers`` defaults
            to the number of cores here, unless given.

    Returns:
        dict with ``corpus``, ``settings``, ``metrics`` (gensim, ours, gensim with
        seed + 1), ``overlap``, ``speed``, ``bars`` and ``rows`` (the table).

    Raises:
        ValueError, TypeError: as for :func:`zoo.word2vec.train`; an unknown probe word.

    Example:
        >>> from zoo.word2vec.compare import compare, format_table
        >>> report = compare("lee", sg=1, epochs=5)          # doctest: +SKIP
        >>> print(format_table(report))                      # doctest: +SKIP
    """
    settings = dict(settings)
    settings.setdefault("workers", cpu_count())
    s = check_settings(settings)
    corpus_obj = resolve_corpus(corpus, data_path=data_path, tokenizer=tokenizer)
    name = getattr(corpus_obj, "name", None) or str(corpus)
    g_settings = gensim_settings(s)

    from gensim.models import Word2Vec

    # Probes are checked against the vocabulary before anything is trained.
    scout = Word2Vec(**{**g_settings, "epochs": 1})
    scout.build_vocab(corpus_obj)
    probes = check_probes(probes if probes is not None else default_probes(name, scout.wv.index_to_key),
                          set(scout.wv.key_to_index), name)
    del scout

    gensim_model, gensim_seconds = train_gensim(corpus_obj, g_settings)
    ours = train(corpus_obj, progress=progress, tokenizer=tokenizer, **s)
    other_model, other_seconds = train_gensim(corpus_obj, {**g_settings, "seed": s["seed"] + 1})

    total_words = gensim_model.corpus_total_words * s["epochs"]
    speed = {"gensim": total_words / gensim_seconds, "ours": ours.words_per_second,
             "gensim_other_seed": total_words / other_seconds}
    speed["ratio"] = speed["ours"] / speed["gensim"]
    metrics = {"gensim": evaluate(gensim_model.wv), "ours": ours.evaluate(), "gensim_other_seed": evaluate(other_model.wv)}
    # Ours is held against both gensim runs (their mean): gensim with several workers is not
    # deterministic, and one reference run alone moves the fraction by several points.
    overlap = {"ours_vs_gensim": (neighbour_overlap(ours.wv, gensim_model.wv, probes)
                                  + neighbour_overlap(ours.wv, other_model.wv, probes)) / 2,
               "gensim_vs_gensim_other_seed": neighbour_overlap(other_model.wv, gensim_model.wv, probes)}
    overlap["fraction"] = overlap["ours_vs_gensim"] / max(overlap["gensim_vs_gensim_other_seed"], 1e-12)

    g, o = metrics["gensim"], metrics["ours"]
    bars = [
        {"bar": f"WordSim-353 Spearman within {WORDSIM_TOLERANCE} of gensim's",
         "value": o["wordsim353_spearman"] - g["wordsim353_spearman"],
         "passed": abs(o["wordsim353_spearman"] - g["wordsim353_spearman"]) <= WORDSIM_TOLERANCE},
        {"bar": f"analogy accuracy within {100 * ANALOGY_TOLERANCE:g} points of gensim's",
         "value": 100 * (o["analogy_accuracy"] - g["analogy_accuracy"]),
         "passed": abs(o["analogy_accuracy"] - g["analogy_accuracy"]) <= ANALOGY_TOLERANCE + 1e-12},
        {"bar": f"neighbour overlap >= {OVERLAP_FRACTION:.0%} of gensim-vs-gensim",
         "value": overlap["fraction"], "passed": overlap["fraction"] >= OVERLAP_FRACTION - 1e-12},  # 0.64/0.8 is 0.8
    ]
    report = {
        "corpus": name, "corpus_words": int(gensim_model.corpus_total_words), "vocabulary": len(ours.vocab),
        "settings": g_settings, "engine_settings": {k: v for k, v in s.items() if k not in g_settings},
        "probes": probes, "speed": speed, "words_per_second_means": WORDS_PER_SECOND,
        "train_seconds": {"gensim": gensim_seconds, "ours": ours.train_seconds, "gensim_other_seed": other_seconds},
        "metrics": metrics, "overlap": overlap, "bars": bars,
        "environment": {"cpu_cores": cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
                        "gensim": _version("gensim"), "tensorflow": _version("tensorflow"), "keras": _version("keras")},
    }
    report["rows"] = table_rows(report)
    return report


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def table_rows(report: dict) -> list:
    """The side-by-side table: ``[metric, gensim, ours, note]`` rows."""
    g, o = report["metrics"]["gensim"], report["metrics"]["ours"]
    sp, ov = report["speed"], report["overlap"]
    rows = [
        ["training words/second", f"{sp['gensim']:,.0f}", f"{sp['ours']:,.0f}",
         f"ratio ours/gensim {sp['ratio']:.2f} (gensim, other seed: {sp['gensim_other_seed']:,.0f})"],
        ["WordSim-353 Spearman", f"{g['wordsim353_spearman']:.4f}", f"{o['wordsim353_spearman']:.4f}",
         f"difference {o['wordsim353_spearman'] - g['wordsim353_spearman']:+.4f}"],
        ["SimLex-999 Spearman", f"{g['simlex999_spearman']:.4f}", f"{o['simlex999_spearman']:.4f}",
         f"difference {o['simlex999_spearman'] - g['simlex999_spearman']:+.4f}"],
        ["analogy accuracy (overall)", f"{100 * g['analogy_accuracy']:.2f}%", f"{100 * o['analogy_accuracy']:.2f}%",
         f"difference {100 * (o['analogy_accuracy'] - g['analogy_accuracy']):+.2f} points"],
    ]
    for section, gs in g["analogy_sections"].items():
        if section == "Total accuracy":
            continue
        os_ = o["analogy_sections"].get(section, {"correct": 0, "questions": 0})
        rows.append([f"  analogy: {section}", f"{gs['correct']}/{gs['questions']}", f"{os_['correct']}/{os_['questions']}", ""])
    rows.append([f"top-{TOPN} neighbour overlap with gensim ({len(report['probes'])} probes)",
                 f"{ov['gensim_vs_gensim_other_seed']:.3f} (other seed)", f"{ov['ours_vs_gensim']:.3f}",
                 f"{ov['fraction']:.0%} of gensim-vs-gensim"])
    return rows


def format_table(report: dict) -> str:
    """The report as a Markdown table, the bars and how words/second is measured."""
    s = report["settings"]
    head = (f"Word2Vec cross-check on {report['corpus']} ({report['corpus_words']:,} words, vocabulary "
            f"{report['vocabulary']:,}), {'skip-gram' if s['sg'] else 'CBOW'}, epochs {s['epochs']}, "
            f"seed {s['seed']}, gensim workers {s['workers']}\n\n")
    lines = ["| metric | gensim | ours | note |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in report["rows"]]
    bars = "\n".join(f"- {'PASS' if b['passed'] else 'FAIL'}: {b['bar']} ({b['value']:+.3f})" for b in report["bars"])
    return head + "\n".join(lines) + f"\n\nBars (set for Reuters):\n{bars}\n\nwords/second = {WORDS_PER_SECOND}\n"


__all__ = ["compare", "train_gensim", "evaluate", "neighbour_overlap", "format_table", "check_probes", "default_probes", "PROBES",
           "cpu_count"]
