"""``train(corpus, **settings)``: Word2Vec on the zoo's Keras model, with gensim's settings.

The vocabulary, the pipeline and the updates follow gensim (see
:mod:`zoo.word2vec.vocab`, :mod:`zoo.word2vec.pipeline`,
:mod:`zoo.word2vec.engine`); the tables being trained are the two ``Embedding``
layers of ``zoo.create_model("word2vec_skipgram" | "word2vec_cbow")``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from .. import files, datasets, registry
from . import engine, pipeline, vocab as vocab_mod
from .settings import check_settings

#: "training words/second", for this implementation and for gensim alike: raw corpus
#: words (known or not, before subsampling) times epochs, divided by the wall-clock
#: seconds of training. Building the vocabulary is not included; reading the corpus
#: during training is.
WORDS_PER_SECOND = ("raw corpus words x epochs / wall-clock training seconds "
                    "(vocabulary building excluded; reading the corpus during training included)")


def resolve_corpus(corpus, *, data_path=None):
    """A restartable iterable of token lists from a name (``"reuters"``, ``"lee"``), a path, or an iterable.

    Raises:
        TypeError: a one-shot iterator (a generator), or not an iterable.
        ValueError, FileNotFoundError: see :func:`zoo.datasets.corpus`.
    """
    if isinstance(corpus, (str, os.PathLike)):
        return datasets.corpus(corpus, path=data_path)
    if isinstance(corpus, (bytes, bytearray)) or not hasattr(corpus, "__iter__"):
        raise TypeError(f"corpus must be 'reuters', 'lee', a text file path or an iterable of token lists; got {type(corpus).__name__}")
    if iter(corpus) is corpus:
        raise TypeError(
            "corpus must be restartable (a list, or an iterable that can be iterated once per epoch such as "
            f"zoo.datasets.corpus(...)); got a one-shot {type(corpus).__name__}"
        )
    return corpus


class Word2VecResult:
    """What :func:`train` returns: the trained Keras model, the vocabulary and exports.

    Attributes:
        model: the ``keras.Model`` whose ``input_vectors`` / ``output_vectors`` tables were trained.
        vocab: the :class:`zoo.word2vec.vocab.Vocabulary`.
        settings: every setting used (gensim's and the engine's).
        train_seconds: wall-clock seconds of training (vocabulary excluded, compilation included).
        vocab_seconds: seconds spent building the vocabulary.
        compile_seconds: of ``train_seconds``, the first call's tracing and XLA compilation.
        words_per_second: ``vocab.total_words * epochs / train_seconds`` (:data:`WORDS_PER_SECOND`).
        centre_words: centre words trained over all epochs (after subsampling).
    """

    def __init__(self, model, vocab, settings, *, train_seconds, vocab_seconds, compile_seconds, centre_words):
        self.model = model
        self.vocab = vocab
        self.settings = dict(settings)
        self.train_seconds = float(train_seconds)
        self.vocab_seconds = float(vocab_seconds)
        self.compile_seconds = float(compile_seconds)
        self.centre_words = int(centre_words)
        self._wv = None

    @property
    def words_per_second(self) -> float:
        return self.vocab.total_words * self.settings["epochs"] / max(self.train_seconds, 1e-9)

    @property
    def vectors(self) -> np.ndarray:
        """The word vectors (the ``input_vectors`` table), row ``i`` for ``vocab.words[i]``."""
        return np.asarray(self.model.get_layer("input_vectors").embeddings)

    @property
    def wv(self):
        """The vectors as a gensim ``KeyedVectors`` (``most_similar``, ``evaluate_word_analogies``...)."""
        if self._wv is None:
            from gensim.models import KeyedVectors

            kv = KeyedVectors(vector_size=self.settings["vector_size"])
            kv.add_vectors(self.vocab.words, self.vectors)
            # Word counts travel with the vectors, as in gensim's own wv (add_vectors' extras= is broken in 4.4).
            kv.allocate_vecattrs(attrs=["count"], types=[np.int64])
            kv.expandos["count"][:] = self.vocab.counts
            self._wv = kv
        return self._wv

    def save_projector(self, directory) -> Path:
        """Write ``vectors.tsv`` and ``metadata.tsv`` for the TensorBoard Embedding Projector.

        Also writes ``projector_config.pbtxt``, so ``tensorboard --logdir DIRECTORY`` shows them
        (or load the two TSVs at https://projector.tensorflow.org). Tabs and newlines inside a
        word are written as ``\\t`` and ``\\n``. Each file is written atomically.

        Returns:
            The directory.
        """
        directory = files.ensure_writable_dir(directory, argument="directory")
        vectors = self.vectors
        files.write_text(directory / "vectors.tsv", "".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in vectors))
        files.write_text(directory / "metadata.tsv",
                       "".join(w.replace("\t", "\\t").replace("\n", "\\n") + "\n" for w in self.vocab.words))
        files.write_text(directory / "projector_config.pbtxt",
                       'embeddings {\n  tensor_name: "word2vec"\n  tensor_path: "vectors.tsv"\n'
                       '  metadata_path: "metadata.tsv"\n}\n')
        return directory

    def save_word2vec_format(self, path, *, binary: bool = False) -> Path:
        """The classic word2vec file (text, or ``binary=True``), readable by
        ``gensim.models.KeyedVectors.load_word2vec_format``; written atomically."""
        path = Path(path)
        with files.atomic_path(path) as tmp:
            self.wv.save_word2vec_format(str(tmp), binary=binary)
        return path

    def evaluate(self) -> dict:
        """gensim's evaluators on these vectors (see :func:`zoo.word2vec.evaluation.evaluate`); one that
        cannot run (no pair or analogy in the vocabulary) gives ``"not applicable (...)"``."""
        from .applicable import evaluate

        return evaluate(self.wv)

    def summary(self) -> dict:
        return {
            "model": self.model.name, "vocabulary": len(self.vocab), "corpus_words": self.vocab.total_words,
            "documents": self.vocab.documents, "epochs": self.settings["epochs"],
            "centre_words_trained": self.centre_words, "train_seconds": round(self.train_seconds, 3),
            "compile_seconds": round(self.compile_seconds, 3), "vocab_seconds": round(self.vocab_seconds, 3),
            "words_per_second": round(self.words_per_second),
            "words_per_second_means": WORDS_PER_SECOND,
        }


def train(corpus, *, progress: bool = True, data_path=None, **settings) -> Word2VecResult:
    """Train Word2Vec (skip-gram or CBOW with negative sampling) with gensim's settings.

    Args:
        corpus: ``"reuters"``, ``"lee"``, the path of a UTF-8 text file (one document per
            line), or any restartable iterable of token lists (as for gensim).
        progress: show a progress bar with words/second (tqdm).
        data_path: where to look first for the Reuters files.
        **settings: gensim's ``Word2Vec`` settings by gensim's names, with gensim's
            defaults (``sg``, ``vector_size``, ``window``, ``negative``, ``ns_exponent``,
            ``sample``, ``min_count``, ``max_vocab_size``, ``max_final_vocab``, ``alpha``,
            ``min_alpha``, ``epochs``, ``seed``, ``cbow_mean``, ``shrink_windows``,
            ``hs=0``, ``workers``), and the engine's (:data:`settings.ENGINE_DEFAULTS`).

    Returns:
        A :class:`Word2VecResult`; ``result.wv`` is a gensim ``KeyedVectors``.

    Raises:
        ValueError, TypeError: a bad setting, an empty corpus, no word reaching
            ``min_count``, a non-UTF-8 file... (named in the message).
        FileNotFoundError: a corpus file that does not exist.

    Example:
        >>> from zoo import word2vec
        >>> result = word2vec.train("lee", sg=1, epochs=2, progress=False)    # doctest: +SKIP
        >>> result.wv.most_similar("police", topn=3)                          # doctest: +SKIP
    """
    s = check_settings(settings)
    corpus = resolve_corpus(corpus, data_path=data_path)
    start = time.perf_counter()
    vocab = vocab_mod.build(corpus, min_count=s["min_count"], max_vocab_size=s["max_vocab_size"],
                            max_final_vocab=s["max_final_vocab"], sample=s["sample"], ns_exponent=s["ns_exponent"])
    vocab_seconds = time.perf_counter() - start

    name = "word2vec_skipgram" if s["sg"] else "word2vec_cbow"
    extra = {} if s["sg"] else {"window": s["window"], "cbow_mean": s["cbow_mean"]}
    model = registry.create_model(name, vocab_size=len(vocab), vector_size=s["vector_size"], negative=s["negative"],
                                  seed=s["seed"], compile=False, **extra)
    parts = s["parts"]
    step = engine.build_train_function(
        model.get_layer("input_vectors").embeddings.value, model.get_layer("output_vectors").embeddings.value,
        sg=s["sg"], window=s["window"], block_size=s["block_size"], part_words=s["chunk_words"] // parts, parts=parts,
        negative=s["negative"], shared_negatives=s["shared_negatives"], cbow_mean=s["cbow_mean"],
        max_row_step=s["max_row_step"])
    stream = pipeline.Stream(corpus, vocab, s, parts=parts)

    from tqdm.auto import tqdm

    centre_words = 0
    start = time.perf_counter()
    # One pipeline thread for all epochs: it prepares the first batches while the step
    # compiles, and each epoch's first batches while the previous epoch trains.
    epochs = ((epoch, batch) for epoch in range(s["epochs"]) for batch in stream.batches(epoch))
    with pipeline.prefetch(epochs) as batches, \
            tqdm(total=vocab.total_words * s["epochs"], unit="word", unit_scale=True, disable=not progress,
                 desc=f"{name} ({len(vocab):,} words)", smoothing=0.1) as bar:
        # Tracing and XLA compilation happen on the first call; they count as training time
        # and are also reported on their own.
        step(*engine.empty_inputs(parts=parts, part_words=s["chunk_words"] // parts, window=s["window"],
                                  block_size=s["block_size"], shared_negatives=s["shared_negatives"]))
        compile_seconds = time.perf_counter() - start
        for epoch, batch in batches:
            bar.set_postfix_str(f"epoch {epoch + 1}/{s['epochs']}", refresh=False)
            step(batch.tok, batch.doc, batch.reduced, batch.noise, batch.lr)
            centre_words += batch.centre_words
            bar.update(batch.raw_words)
    train_seconds = time.perf_counter() - start
    if not np.all(np.isfinite(model.get_layer("input_vectors").embeddings)):
        raise FloatingPointError(f"training diverged (non-finite word vectors); lower alpha (got {s['alpha']})")
    return Word2VecResult(model, vocab, s, train_seconds=train_seconds, vocab_seconds=vocab_seconds,
                          compile_seconds=compile_seconds, centre_words=centre_words)
