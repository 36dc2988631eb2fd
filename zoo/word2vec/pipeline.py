"""The data pipeline: the corpus as word ids, subsampled, windowed and cut into steps, in NumPy.

Per epoch, and per *piece* of the corpus (whole documents, about ``PIECE_WORDS``
raw words), everything is array arithmetic, never a Python loop per word pair:

1. words -> ids (unknown words dropped, as gensim drops them before windowing);
2. subsampling: keep each occurrence with the vocabulary's keep-probability;
3. documents of at most gensim's 10,000 words (longer ones are read in pieces, every word trained);
4. each centre word's shrunken window ``b`` drawn uniformly from ``1..window``;
5. consecutive centre words cut into parts of ``part_words``, each with ``window``
   neighbours on both sides, and ``shared_negatives`` noise words drawn per block;
6. the learning rate of each step from the raw words seen so far (gensim's linear decay).

Memory stays bounded: only one piece is expanded at a time, and pairs are never
materialised (the engine forms them from the windows). The trainer reads the
pieces from the token-id cache on disk that the vocabulary pass wrote
(:mod:`zoo.word2vec.corpora`); given a corpus instead, the stream keeps its ids
between epochs while they fit in ``cache_words`` words and reads a larger corpus
again each epoch.

Every random draw of a piece comes from ``numpy.random.default_rng([seed, epoch,
piece])``, so a seeded run is repeatable whatever is cached.
"""

from __future__ import annotations

import itertools
import queue
import threading
from dataclasses import dataclass

import numpy as np

from . import corpora

PIECE_WORDS = 1 << 20        # raw words expanded at once (about 30 MB of arrays)
CACHE_WORDS = 50_000_000     # keep word ids between epochs up to this many words (8 bytes each)
NOISE_BUCKETS = 1 << 18      # buckets of the noise-word lookup table (1 MB); draws in a bucket holding a cdf step are searched


@dataclass
class Batch:
    """Arrays for ``steps`` engine steps (see :func:`zoo.word2vec.engine.build_train_function`)."""

    tok: np.ndarray       # (steps, parts, part_words + 2W) int32 word ids
    doc: np.ndarray       # (steps, parts, part_words + 2W) int32 document ids, -1 = padding
    reduced: np.ndarray   # (steps, parts, part_words) int32 shrunken windows
    noise: np.ndarray     # (steps, parts, blocks, K) int32 noise words
    lr: np.ndarray        # (steps,) float32 learning rate
    raw_words: int        # raw corpus words this batch stands for (for words/second)
    centre_words: int     # centre words trained (after subsampling)


class Stream:
    """Batches for each epoch of ``corpus`` under ``settings`` (see the module docstring).

    Args:
        corpus: a restartable iterable of token lists.
        vocab: the :class:`zoo.word2vec.vocab.Vocabulary` built from it.
        settings: checked settings (:func:`zoo.word2vec.settings.check_settings`).
        parts: parts per step (the engine computes them concurrently).
        cache_words: keep ids between epochs up to this many words (when ``pieces`` is not given).
        pieces: a function returning an iterator of ``(ids, doc, raw_words)`` per piece (the trainer
            passes :meth:`zoo.word2vec.corpora.TokenCache.pieces`); then ``corpus`` is not read.
        session: 0 for a first training, 1, 2... for each continued training (``train_more``):
            part of the random draws' key, so that continued training draws afresh.
    """

    def __init__(self, corpus, vocab, settings: dict, *, parts: int, cache_words: int = CACHE_WORDS, pieces=None,
                 session: int = 0):
        self.corpus = corpus
        self._source = pieces
        self.session = int(session)
        self.vocab = vocab
        self.s = settings
        self.parts = parts
        self.part_words = settings["chunk_words"] // parts
        self.cache_words = cache_words
        self._cache: list | None = None
        self._noise_bounds: np.ndarray | None = None

    # ------------------------------------------------------------------ noise words
    def _noise(self, u: np.ndarray) -> np.ndarray:
        """Noise word ids for uniform draws ``u``: ``searchsorted(noise_cdf, u)``, the same
        ids, but looked up in a table of ``NOISE_BUCKETS`` buckets of ``u`` (one read instead
        of a binary search); only draws in a bucket holding a step of the cdf are searched."""
        cdf = self.vocab.noise_cdf
        if self._noise_bounds is None:
            # bounds[b] = searchsorted(cdf, b / B): every u in [b/B, (b+1)/B) has its id in
            # bounds[b]..bounds[b+1], so equal bounds decide it (b / B and u * B are exact).
            self._noise_bounds = np.searchsorted(cdf, np.arange(NOISE_BUCKETS + 1) / NOISE_BUCKETS).astype(np.int32)
        bucket = (u * NOISE_BUCKETS).astype(np.int32)
        noise = self._noise_bounds[bucket]
        open_ = noise != self._noise_bounds[bucket + 1]
        noise[open_] = np.searchsorted(cdf, u[open_])
        return np.minimum(noise, len(self.vocab) - 1, out=noise)

    # ------------------------------------------------------------------ pieces
    def _pieces(self):
        """Yield ``(ids, doc, raw_words)`` per piece: int32 ids of known words, their document index."""
        if self._source is not None:
            yield from self._source()
            return
        if self._cache is not None:
            yield from self._cache
            return
        cache, cached_words = [], 0
        lookup = self.vocab.index.get
        docs = corpora.split_long(self.corpus)  # as scan() counted them
        while True:
            chunk = list(_take_words(docs, PIECE_WORDS))
            if not chunk:
                break
            lengths = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
            ids = np.fromiter(map(lookup, itertools.chain.from_iterable(chunk), itertools.repeat(-1)),
                              dtype=np.int32, count=int(lengths.sum()))
            doc_index = np.repeat(np.arange(len(chunk), dtype=np.int32), lengths)
            known = ids >= 0
            piece = (ids[known], doc_index[known], int(lengths.sum()))
            if cache is not None:
                cached_words += piece[2]
                if cached_words <= self.cache_words:
                    cache.append(piece)
                else:
                    cache = None  # too large to keep: read the corpus again next epoch
            yield piece
        if cache is not None:
            self._cache = cache

    # ------------------------------------------------------------------ one epoch
    def batches(self, epoch: int):
        """Yield :class:`Batch` es covering one epoch, in corpus order."""
        s, total = self.s, self.vocab.total_words
        raw_before = 0
        for number, (ids, doc, raw) in enumerate(self._pieces()):
            rng = np.random.default_rng([s["seed"], epoch, number] + ([self.session] if self.session else []))
            yield from self._piece_batches(ids, doc, raw, rng, epoch, raw_before / total, raw / total)
            raw_before += raw

    def _piece_batches(self, ids, doc, raw, rng, epoch, start, share):
        s = self.s
        W, T, K, P, L = s["window"], s["block_size"], s["shared_negatives"], self.parts, self.part_words
        # 2. gensim's subsampling.
        if s["sample"]:
            keep = rng.random(len(ids), dtype=np.float32) < self.vocab.keep_probability[ids]
            ids, doc = ids[keep], doc[keep]
        # 3. gensim trains at most MAX_WORDS_PER_DOCUMENT words of a document: the corpus is read
        #    in pieces of at most that many (corpora.split_long), so every word here is trained.
        n = len(ids)
        if n == 0:
            return
        # 4. each centre's window: window - randint(0, window), as gensim's reduced_windows.
        reduced = (W - rng.integers(0, W, n) if s["shrink_windows"] else np.full(n, W)).astype(np.int32)
        # 5. parts of L centres with W neighbours each side; padding has document -1.
        steps = -(-n // (L * P))
        pad = steps * L * P - n
        tok = np.concatenate([np.zeros(W, np.int32), ids, np.zeros(pad + W, np.int32)])
        docs = np.concatenate([np.full(W, -1, np.int32), doc, np.full(pad + W, -1, np.int32)])
        reduced = np.concatenate([reduced, np.zeros(pad, np.int32)]).reshape(steps, P, L)
        tok, docs = (_windows(a, L + 2 * W, L, steps * P).reshape(steps, P, L + 2 * W) for a in (tok, docs))
        noise = self._noise(rng.random((steps, P, L // T, K)))
        # 6. gensim's learning rate: alpha -> min_alpha linearly in the raw words seen.
        progress = (epoch + start + share * np.arange(steps) / steps) / s["epochs"]
        lr = np.maximum(s["min_alpha"], s["alpha"] - (s["alpha"] - s["min_alpha"]) * progress).astype(np.float32)
        per_call = s["steps_per_call"]
        for first in range(0, steps, per_call):
            last = min(first + per_call, steps)
            centres = min(last * L * P, n) - first * L * P
            yield Batch(tok[first:last], docs[first:last], reduced[first:last], noise[first:last], lr[first:last],
                        raw_words=round(raw * centres / n), centre_words=centres)


def _windows(a: np.ndarray, width: int, stride: int, count: int) -> np.ndarray:
    """``count`` windows of ``width`` elements of ``a``, starting every ``stride`` (a copy)."""
    return np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(a, width)[::stride][:count])


def _take_words(docs, words: int):
    """Whole documents from the iterator ``docs`` until at least ``words`` words are taken."""
    taken = 0
    for doc in docs:
        yield doc
        taken += len(doc)
        if taken >= words:
            return


class prefetch:
    """Iterate ``iterable`` in a background thread, ``size`` items ahead (NumPy and TensorFlow
    release the GIL, so preparing the next batch overlaps with training on this one).

    The thread starts at once, so the first items are being prepared while the caller does
    other work (the trainer compiles its step meanwhile). Use it as a context manager, or
    call :meth:`close`, to stop the thread when not iterated to the end.

    Example:
        >>> with prefetch(range(3)) as items:
        ...     list(items)
        [0, 1, 2]
    """

    _done = object()

    def __init__(self, iterable, size: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, args=(iter(iterable),), daemon=True,
                                        name="word2vec-pipeline")
        self._thread.start()

    def _produce(self, items):
        try:
            for item in items:
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._queue.put(self._done)
        except BaseException as exc:  # handed to the consumer, raised there
            self._queue.put(exc)

    def __iter__(self):
        try:
            while True:
                item = self._queue.get()
                if item is self._done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self):
        """Stop the thread (it may be waiting to hand over an item)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
