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
    for documents, doc in enumerate(corpus, start=1):
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
    effective_min_count = min_count
    if max_final_vocab is not None and max_final_vocab < len(counts):
        # gensim: the smallest count that keeps at most max_final_vocab words.
        ranked = sorted(counts.values(), reverse=True)
        effective_min_count = max(min_count, ranked[max_final_vocab] + 1)
    words = [w for w, c in counts.items() if c >= effective_min_count]
    if not words:
        word, top = counts.most_common(1)[0]
        raise ValueError(
            f"min_count: no word of corpus {describe(corpus)} occurs at least {effective_min_count} times "
            f"(the most frequent, {word!r}, occurs {top} times); lower min_count"
        )
    kept = np.array([counts[w] for w in words], dtype=np.int64)
    # gensim's sort_by_descending_frequency: count descending, ties by later insertion first.
    order = np.lexsort((-np.arange(len(kept)), -kept))
    words = [words[i] for i in order]
    kept = kept[order]
    return Vocabulary(
        words=words,
        counts=kept,
        keep_probability=keep_probability(kept, sample),
        noise_cdf=noise_cdf(kept, ns_exponent),
        total_words=int(total),
        documents=int(documents),
    )


def keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    """gensim's subsampling: keep an occurrence of word ``w`` with probability
    ``(sqrt(c_w / t) + 1) * t / c_w`` (at most 1), where ``t = sample * (kept corpus words)``."""
    counts = counts.astype(np.float64)
    if not sample:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * counts.sum() if sample < 1.0 else int(sample * (3 + np.sqrt(5)) / 2)
    p = (np.sqrt(counts / threshold) + 1) * (threshold / counts)
    return np.minimum(p, 1.0).astype(np.float32)


def noise_cdf(counts: np.ndarray, ns_exponent: float) -> np.ndarray:
    """Cumulative distribution of noise words: ``P(w) ~ count_w ** ns_exponent`` (word2vec's unigram^0.75)."""
    weights = counts.astype(np.float64) ** float(ns_exponent)
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]
