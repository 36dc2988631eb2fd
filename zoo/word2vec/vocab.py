"""The vocabulary, built exactly as gensim builds it.

One pass over the corpus counts the words (pruning rare ones on the way when
``max_vocab_size`` is set, as ``gensim.utils.prune_vocab`` does); words seen at
least ``min_count`` times are kept, most frequent first (ties in gensim's
order), each with its subsampling keep-probability and its weight in the noise
distribution. With the same corpus and settings, ``Vocabulary.words`` equals
gensim's ``wv.index_to_key``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .corpora import split_long


@dataclass
class Vocabulary:
    """Words kept for training, most frequent first.

    Attributes:
        words: the kept words; a word's index is its row in both embedding tables.
        counts: how often each kept word occurs in the corpus.
        keep_probability: gensim's subsampling probability of keeping one occurrence.
        noise_cdf: cumulative noise distribution (counts ** ns_exponent, normalised).
        total_words: raw words in the corpus (kept or not): the unit of words/second.
        documents: number of documents.
    """

    words: list
    counts: np.ndarray
    keep_probability: np.ndarray
    noise_cdf: np.ndarray
    total_words: int
    documents: int
    index: dict = field(repr=False, default_factory=dict)

    def __post_init__(self):
        if not self.index:
            self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)


def describe(corpus) -> str:
    return getattr(corpus, "name", None) or type(corpus).__name__


def scan(corpus, *, max_vocab_size: int | None):
    """Count every word of ``corpus``; return ``(counts, total_words, documents)``.

    Raises:
        TypeError: a document is a string or not a sequence of string tokens.
        ValueError: the corpus holds no words.
    """
    counts: Counter = Counter()
    total = documents = 0
    min_reduce = 1
    for documents, doc in enumerate(split_long(corpus), start=1):  # as training reads it
        if isinstance(doc, (str, bytes)) or not hasattr(doc, "__len__"):
            raise TypeError(
                f"corpus: each document must be a list of string tokens, got {type(doc).__name__} "
                f"{str(doc)[:40]!r} (document {documents}); tokenise it, or pass a file path to "
                "zoo.datasets.corpus(path)"
            )
        if documents == 1 and len(doc) and not isinstance(doc[0], str):
            raise TypeError(f"corpus: tokens must be strings, got {type(doc[0]).__name__} {doc[0]!r} in document 1")
        counts.update(doc)
        total += len(doc)
        if max_vocab_size and len(counts) > max_vocab_size:
            # gensim.utils.prune_vocab: drop words seen fewer than min_reduce times, then raise the bar.
            for word in [w for w, c in counts.items() if c < min_reduce]:
                del counts[word]
            min_reduce += 1
    if total == 0:
        raise ValueError(f"corpus: {describe(corpus)} is empty ({documents} documents, 0 words); nothing to train on")
    return counts, total, documents


def build(corpus, *, min_count: int, max_vocab_size, max_final_vocab, sample: float, ns_exponent: float) -> Vocabulary:
    """Scan ``corpus`` and build the vocabulary with gensim's rules (see the module docstring).

    Raises:
        ValueError: empty corpus, or no word occurs ``min_count`` times.
    """
    counts, total, documents = scan(corpus, max_vocab_size=max_vocab_size)
    return from_counts(list(counts), np.fromiter(counts.values(), np.int64, len(counts)), total, documents,
                       min_count=min_count, max_final_vocab=max_final_vocab, sample=sample, ns_exponent=ns_exponent,
                       name=describe(corpus))


def _kept(words, counts, *, min_count, max_final_vocab, name):
    """Indices of the words gensim keeps: at least the effective ``min_count`` times."""
    if len(words) == 0 or counts.sum() == 0:
        raise ValueError(f"corpus: {name} is empty (0 words); nothing to train on")
    effective_min_count = min_count
    if max_final_vocab is not None and max_final_vocab < len(counts):
        # gensim: the smallest count that keeps at most max_final_vocab words.
        ranked = np.sort(counts)[::-1]
        effective_min_count = max(min_count, int(ranked[max_final_vocab]) + 1)
    kept = np.flatnonzero(counts >= effective_min_count)
    if len(kept) == 0:
        top = int(np.argmax(counts))  # the first of the most frequent, as Counter.most_common
        raise ValueError(
            f"min_count: no word of corpus {name} occurs at least {effective_min_count} times "
            f"(the most frequent, {words[top]!r}, occurs {counts[top]} times); lower min_count"
        )
    return kept


def from_counts(words, counts, total: int, documents: int, *, min_count: int, max_final_vocab, sample: float,
                ns_exponent: float, name: str = "corpus") -> Vocabulary:
    """The vocabulary from raw counts (``words`` in order of first occurrence), by gensim's rules.

    Raises:
        ValueError: no word occurs ``min_count`` times.
    """
    counts = np.asarray(counts, np.int64)
    if total == 0:
        raise ValueError(f"corpus: {name} is empty ({documents} documents, 0 words); nothing to train on")
    index = _kept(words, counts, min_count=min_count, max_final_vocab=max_final_vocab, name=name)
    kept = counts[index]
    # gensim's sort_by_descending_frequency: count descending, ties by later insertion first.
    order = np.lexsort((-np.arange(len(kept)), -kept))
    words = [words[i] for i in index[order]]
    kept = kept[order]
    return Vocabulary(
        words=words,
        counts=kept,
        keep_probability=keep_probability(kept, sample),
        noise_cdf=noise_cdf(kept, ns_exponent),
        total_words=int(total),
        documents=int(documents),
    )


def update(old: Vocabulary, words, counts, total: int, documents: int, *, min_count: int,
           sample: float, ns_exponent: float, name: str = "corpus") -> Vocabulary:
    """gensim's ``build_vocab(new_corpus, update=True)``: the old words keep their rows and
    gain the new corpus's counts; new words seen at least ``min_count`` times are appended (in
    order of first occurrence); the subsampling of the words kept from the new corpus is
    computed from the new corpus's counts (the others keep theirs); the noise distribution
    from the updated counts. ``total_words`` and ``documents`` are the new corpus's.
    """
    counts = np.asarray(counts, np.int64)
    if total == 0:
        raise ValueError(f"corpus: {name} is empty ({documents} documents, 0 words); nothing to train on")
    position = {w: i for i, w in enumerate(words)}
    new_count = np.array([counts[position[w]] if w in position else 0 for w in old.words], np.int64)
    retained = np.flatnonzero(counts >= min_count)  # gensim's keep_vocab_item with min_count
    added = [words[i] for i in retained if words[i] not in old.index]
    new_rows = {w: len(old.words) + k for k, w in enumerate(added)}
    all_words = list(old.words) + added
    all_counts = np.concatenate([old.counts + new_count, np.array([counts[position[w]] for w in added], np.int64)])
    keep = np.concatenate([old.keep_probability, np.ones(len(added), np.float32)])
    retained_words = [words[i] for i in retained]
    retained_counts = counts[retained]
    if len(retained):
        rows = np.array([old.index[w] if w in old.index else new_rows[w] for w in retained_words])
        # gensim: threshold from the retained words' new-corpus total.
        threshold_total = retained_counts.sum()
        keep[rows] = keep_probability(retained_counts, sample, total=threshold_total)
    return Vocabulary(words=all_words, counts=all_counts, keep_probability=keep,
                      noise_cdf=noise_cdf(all_counts, ns_exponent), total_words=int(total), documents=int(documents))


def keep_probability(counts: np.ndarray, sample: float, total=None) -> np.ndarray:
    """gensim's subsampling: keep an occurrence of word ``w`` with probability
    ``(sqrt(c_w / t) + 1) * t / c_w`` (at most 1), where ``t = sample * (kept corpus words)``."""
    counts = counts.astype(np.float64)
    if not sample:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * (counts.sum() if total is None else total) if sample < 1.0 else int(sample * (3 + np.sqrt(5)) / 2)
    p = (np.sqrt(counts / threshold) + 1) * (threshold / counts)
    return np.minimum(p, 1.0).astype(np.float32)


def noise_cdf(counts: np.ndarray, ns_exponent: float) -> np.ndarray:
    """Cumulative distribution of noise words: ``P(w) ~ count_w ** ns_exponent`` (word2vec's unigram^0.75)."""
    weights = counts.astype(np.float64) ** float(ns_exponent)
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]
