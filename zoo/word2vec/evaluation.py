"""How good word vectors are, by gensim's own evaluators, and how alike two sets of them are."""

from __future__ import annotations

#: Neighbours compared per probe word by :func:`neighbour_overlap`.
TOPN = 10


def evaluate(wv, *, analogies: bool = True) -> dict:
    """gensim's evaluators on ``wv``: WordSim-353, SimLex-999, analogies (overall and per section).

    Args:
        wv: a gensim ``KeyedVectors``.
        analogies: also run the 19,544 questions of ``questions-words.txt`` (a few seconds).

    Returns:
        dict of ``wordsim353_spearman``, ``simlex999_spearman`` (and their OOV percentages),
        ``analogy_accuracy`` and ``analogy_sections`` (when ``analogies``).
    """
    from gensim.test.utils import datapath

    wordsim = wv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    simlex = wv.evaluate_word_pairs(datapath("simlex999.txt"))
    pairs = {"wordsim353_spearman": float(wordsim[1][0]), "wordsim353_oov_percent": float(wordsim[2]),
             "simlex999_spearman": float(simlex[1][0]), "simlex999_oov_percent": float(simlex[2])}
    if not analogies:
        return pairs
    accuracy, sections = wv.evaluate_word_analogies(datapath("questions-words.txt"))
    return {**pairs, "analogy_accuracy": float(accuracy), "analogy_sections": section_counts(sections)}


def section_counts(sections) -> dict:
    """gensim's per-section analogy results as ``{section: {correct, questions, accuracy}}``."""
    per_section = {}
    for section in sections:
        correct, incorrect = len(section["correct"]), len(section["incorrect"])
        per_section[section["section"]] = {"correct": correct, "questions": correct + incorrect,
                                           "accuracy": correct / max(correct + incorrect, 1)}
    return per_section


def neighbour_overlap(a, b, probes, topn: int = TOPN) -> float:
    """Mean over ``probes`` of |top-``topn`` neighbours in ``a`` & in ``b``| / ``topn``."""
    total = 0.0
    for word in probes:
        near_a = {w for w, _ in a.most_similar(word, topn=topn)}
        near_b = {w for w, _ in b.most_similar(word, topn=topn)}
        total += len(near_a & near_b) / topn
    return total / len(probes)
