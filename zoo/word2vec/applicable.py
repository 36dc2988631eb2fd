"""gensim's evaluators where they apply: a corpus without the benchmark words is not a failure.

WordSim-353 and SimLex-999 need word pairs of the vocabulary, the analogy test needs
questions whose four words are all in it; a domain corpus, another language or a
tiny vocabulary has none. gensim then raises ("No valid similarity judgements
found") or returns an accuracy of 0 over no questions. Here each evaluator runs on
its own and one that cannot run is reported as :data:`NO_PAIR` / :data:`NO_ANALOGY`,
so ``python -m zoo.word2vec train`` keeps its trained vectors and exits 0.
"""

from __future__ import annotations

import math

from .evaluation import section_counts

NO_PAIR = "not applicable (no pair in the vocabulary)"
NO_ANALOGY = "not applicable (no analogy in the vocabulary)"


def evaluate(wv) -> dict:
    """The keys of :func:`zoo.word2vec.evaluation.evaluate`; an evaluator that cannot run gives a
    ``"not applicable (...)"`` string instead of a number (NaN included: it is not valid JSON)."""
    import logging

    from gensim.test.utils import datapath

    out = {}
    quiet = logging.getLogger("gensim.models.keyedvectors")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # gensim logs every out-of-vocabulary question otherwise
    try:
        for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
            try:
                _, (rho, _), oov = wv.evaluate_word_pairs(datapath(file))
            except (ValueError, ZeroDivisionError):  # gensim: "No valid similarity judgements found"
                rho, oov = math.nan, 100.0
            out[f"{name}_spearman"] = float(rho) if math.isfinite(rho) else NO_PAIR
            out[f"{name}_oov_percent"] = float(oov)
        try:
            accuracy, sections = wv.evaluate_word_analogies(datapath("questions-words.txt"))
        except (ValueError, ZeroDivisionError):
            accuracy, sections = math.nan, []
    finally:
        quiet.setLevel(level)
    per_section = section_counts(sections)
    asked = sum(s["questions"] for name, s in per_section.items() if name != "Total accuracy")
    out["analogy_accuracy"] = float(accuracy) if asked and math.isfinite(accuracy) else NO_ANALOGY
    out["analogy_sections"] = per_section
    return out
