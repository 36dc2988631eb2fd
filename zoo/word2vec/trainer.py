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

import contextlib
import json
import tempfile

from .. import checks, files, rundir, registry
from . import corpora, engine, pipeline, vocab as vocab_mod
from .settings import check_settings

#: "training words/second", for this implementation and for gensim alike: raw corpus
#: words (known or not, before subsampling) times epochs, divided by the wall-clock
#: seconds of training. Building the vocabulary is not included; reading the corpus
#: during training is.
WORDS_PER_SECOND = ("raw corpus words x epochs / wall-clock training seconds "
                    "(vocabulary building excluded; reading the corpus during training included: for "
                    "zoo.word2vec, the token ids its vocabulary pass wrote to disk)")


def resolve_corpus(corpus, *, data_path=None, tokenizer: str = "simple"):
    """A restartable iterable of token lists from a name (``"reuters"``, ``"lee"``), a text file, a
    folder of text files, or an iterable (see :func:`zoo.word2vec.corpora.open_corpus`).

    Raises:
        TypeError: a one-shot iterator (a generator), or not an iterable.
        ValueError, FileNotFoundError: an unknown name, a missing path, a folder without text files.
    """
    return corpora.open_corpus(corpus, tokenizer=tokenizer, data_path=data_path)


class Word2VecResult:
    """What :func:`train` returns: the trained Keras model, the vocabulary and exports.

    Attributes:
        model: the ``keras.Model`` whose ``input_vectors`` / ``output_vectors`` tables were trained.
        vocab: the :class:`zoo.word2vec.vocab.Vocabulary`.
        settings: every setting used (gensim's and the engine's).
        train_seconds: wall-clock seconds of training (vocabulary excluded, compilation included).
        vocab_seconds: seconds spent building the vocabulary.
        compile_seconds: of ``train_seconds``, the first call's tracing and XLA compilation.
        words_per_second: ``vocab.total_words * epochs / train_seconds`` (:data:`WORDS_PER_SECOND`;
            the epochs trained by this call: a resumed run counts those after its checkpoint).
        centre_words: centre words trained over all epochs (after subsampling).
        history: per epoch, ``loss`` (gensim's ``compute_loss`` sum over the epoch's pairs, in
            float64) and ``centre_words``; continued training appends to it.
        tokenizer: how text files were tokenised (``"simple"`` or ``"whitespace"``).
        resumed_from_epoch: epochs restored from a checkpoint (0 = none).
    """

    def __init__(self, model, vocab, settings, *, train_seconds, vocab_seconds, compile_seconds, centre_words,
                 history=None, tokenizer="simple", resumed_from_epoch=0, session=0):
        self.model = model
        self.vocab = vocab
        self.settings = dict(settings)
        self.train_seconds = float(train_seconds)
        self.vocab_seconds = float(vocab_seconds)
        self.compile_seconds = float(compile_seconds)
        self.centre_words = int(centre_words)
        self.history = history if history is not None else {"loss": [], "centre_words": []}
        self.tokenizer = tokenizer
        self.resumed_from_epoch = int(resumed_from_epoch)
        self.session = int(session)
        self._wv = None

    def train_more(self, corpus, *, epochs=None, progress: bool = True, data_path=None, tokenizer=None):
        """Continue training on ``corpus``, as gensim's ``build_vocab(corpus, update=True)`` then ``train``.

        Words of ``corpus`` seen at least ``min_count`` times that are new get new rows (gensim's
        initial vectors for those rows, zero output vectors); every known word's count grows by its
        count in ``corpus``; the learning rate decays from ``alpha`` to ``min_alpha`` again over
        ``epochs`` (default: this result's). The result is updated in place (as a gensim model is)
        and returned; ``history`` gains the new epochs.

        Raises:
            ValueError, TypeError, FileNotFoundError: as for :func:`train`.
        """
        s = dict(self.settings)
        if epochs is not None:
            s["epochs"] = checks.positive_int("epochs", epochs)
        tokenizer = corpora.check_tokenizer(tokenizer or self.tokenizer)
        source = corpora.open_corpus(corpus, tokenizer=tokenizer, data_path=data_path)
        with tempfile.TemporaryDirectory(prefix="zoo-word2vec-") as work:
            start = time.perf_counter()
            words, counts, index, total, documents, cache = corpora.scan(
                source, Path(work) / "tokens.i32", piece_words=pipeline.PIECE_WORDS, max_vocab_size=s["max_vocab_size"])
            vocab = vocab_mod.update(self.vocab, words, counts, total, documents, min_count=s["min_count"],
                                     sample=s["sample"], ns_exponent=s["ns_exponent"], name=vocab_mod.describe(source))
            vocab_seconds = time.perf_counter() - start
            old = len(self.vocab)
            tables = [self.vectors, np.asarray(self.model.get_layer("output_vectors").embeddings)]
            model = _create_model(s, len(vocab))
            grown = [np.asarray(model.get_layer(n).embeddings) for n in ("input_vectors", "output_vectors")]
            for table, new in zip(tables, grown):
                new[:old] = table  # new rows: gensim's initial vectors (input) and zeros (output)
            _assign(model, *grown)
            run = _run_epochs(model, vocab, s, cache, _mapping(index, vocab), source, progress=progress,
                              session=self.session + 1)
        self.model, self.vocab, self.settings, self._wv = model, vocab, s, None
        self.session += 1
        self.train_seconds, self.vocab_seconds = run["train_seconds"], vocab_seconds
        self.compile_seconds, self.centre_words = run["compile_seconds"], run["centre_words"]
        for key in self.history:
            self.history[key] += run["history"][key]
        self.resumed_from_epoch = 0
        return self

    @property
    def words_per_second(self) -> float:
        epochs = self.settings["epochs"] - self.resumed_from_epoch  # the epochs this call trained
        return self.vocab.total_words * epochs / max(self.train_seconds, 1e-9)

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
            "loss_per_epoch": [round(x, 1) for x in self.history["loss"]],
            "tokenizer": self.tokenizer, "resumed_from_epoch": self.resumed_from_epoch,
        }


def _create_model(s: dict, vocab_size: int):
    name = "word2vec_skipgram" if s["sg"] else "word2vec_cbow"
    extra = {} if s["sg"] else {"window": s["window"], "cbow_mean": s["cbow_mean"]}
    return registry.create_model(name, vocab_size=vocab_size, vector_size=s["vector_size"], negative=s["negative"],
                                 seed=s["seed"], compile=False, **extra)


def _assign(model, vectors, output_vectors) -> None:
    model.get_layer("input_vectors").embeddings.assign(vectors)
    model.get_layer("output_vectors").embeddings.assign(output_vectors)


def _mapping(index: dict, vocab) -> np.ndarray:
    """First-occurrence id (the token cache's) -> vocabulary row, -1 for words not kept."""
    mapping = np.full(max(len(index), 1), -1, np.int32)
    for row, word in enumerate(vocab.words):
        i = index.get(word)
        if i is not None:
            mapping[i] = row
    return mapping


class _Checkpoint:
    """The tables, the vocabulary counts and the history after each epoch, in ``directory``.

    ``state.json`` names the ``.npz`` it belongs to and is replaced only after that file is
    complete, so a kill at any moment leaves a consistent pair (the previous epoch's, or the new).
    """

    def __init__(self, directory):
        self.dir = Path(directory)

    def load(self):
        path = self.dir / "state.json"
        if not path.is_file():
            return None
        state = json.loads(path.read_text(encoding="utf-8"))
        with np.load(self.dir / state["arrays"], allow_pickle=False) as f:
            state["tables"] = (f["input_vectors"], f["output_vectors"])
            state["words"], state["counts"] = f["words"].tolist(), f["counts"]
        return state

    def save(self, model, vocab, *, epoch: int, settings: dict, history: dict, corpus: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch:04d}.npz"
        with files.atomic_path(self.dir / name) as tmp, open(tmp, "wb") as f:
            np.savez(f, input_vectors=np.asarray(model.get_layer("input_vectors").embeddings),
                     output_vectors=np.asarray(model.get_layer("output_vectors").embeddings),
                     words=np.array(vocab.words, dtype=str), counts=vocab.counts)
        previous = {p.name for p in self.dir.glob("epoch-*.npz")} - {name}
        files.write_json(self.dir / "state.json", {"epoch": epoch, "arrays": name, "settings": settings,
                                                   "history": history, "corpus": corpus})
        for old in previous:
            (self.dir / old).unlink(missing_ok=True)

    def clear(self) -> None:
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def _run_epochs(model, vocab, s: dict, cache, mapping, source, *, progress: bool, start_epoch: int = 0,
                history=None, checkpoint=None, corpus_name: str = "", session: int = 0) -> dict:
    """Train epochs ``start_epoch..epochs-1`` on the token cache; checkpoint after each one."""
    parts = s["parts"]
    step = engine.build_train_function(
        model.get_layer("input_vectors").embeddings.value, model.get_layer("output_vectors").embeddings.value,
        sg=s["sg"], window=s["window"], block_size=s["block_size"], part_words=s["chunk_words"] // parts, parts=parts,
        negative=s["negative"], shared_negatives=s["shared_negatives"], cbow_mean=s["cbow_mean"],
        max_row_step=s["max_row_step"])
    stream = pipeline.Stream(None, vocab, s, parts=parts, pieces=lambda: cache.pieces(mapping), session=session)
    history = {"loss": [], "centre_words": []} if history is None else {k: list(v) for k, v in history.items()}
    check = getattr(source, "check_unchanged", lambda: None)

    def produce():
        for epoch in range(start_epoch, s["epochs"]):
            yield from ((epoch, batch) for batch in stream.batches(epoch))
            yield epoch, None  # the epoch is complete

    from tqdm.auto import tqdm

    centre_words = epoch_centres = 0
    epoch_loss = 0.0
    start = time.perf_counter()
    remaining = s["epochs"] - start_epoch
    # One pipeline thread for all epochs: it prepares the first batches while the step
    # compiles, and each epoch's first batches while the previous epoch trains.
    with pipeline.prefetch(produce()) as batches, \
            tqdm(total=vocab.total_words * remaining, unit="word", unit_scale=True, disable=not progress,
                 desc=f"{model.name} ({len(vocab):,} words)", smoothing=0.1) as bar:
        # Tracing and XLA compilation happen on the first call; they count as training time
        # and are also reported on their own.
        step(*engine.empty_inputs(parts=parts, part_words=s["chunk_words"] // parts, window=s["window"],
                                  block_size=s["block_size"], shared_negatives=s["shared_negatives"]))
        compile_seconds = time.perf_counter() - start
        last = ""
        check()  # a corpus file that changed since the vocabulary pass: stop before training on it
        for epoch, batch in batches:
            if batch is None:
                history["loss"].append(epoch_loss)
                history["centre_words"].append(epoch_centres)
                last = f", loss {epoch_loss:.5g} (epoch {epoch + 1})"
                bar.set_postfix_str(f"epoch {epoch + 1}/{s['epochs']}{last}")
                if progress:
                    bar.write(f"epoch {epoch + 1}/{s['epochs']}: loss {epoch_loss:.6g} over "
                              f"{epoch_centres:,} centre words")
                if not np.all(np.isfinite(model.get_layer("input_vectors").embeddings)):
                    raise FloatingPointError(
                        f"training diverged (non-finite word vectors); lower alpha (got {s['alpha']})")
                if checkpoint is not None:
                    checkpoint.save(model, vocab, epoch=epoch + 1, settings=s, history=history, corpus=corpus_name)
                epoch_loss, epoch_centres = 0.0, 0
                if epoch + 1 < s["epochs"]:
                    check()  # before the next epoch; the checkpoint of this one is kept
                continue
            bar.set_postfix_str(f"epoch {epoch + 1}/{s['epochs']}{last}", refresh=False)
            epoch_loss += float(step(batch.tok, batch.doc, batch.reduced, batch.noise, batch.lr))
            epoch_centres += batch.centre_words
            centre_words += batch.centre_words
            bar.update(batch.raw_words)
    return {"train_seconds": time.perf_counter() - start, "compile_seconds": compile_seconds,
            "centre_words": centre_words, "history": history}


@contextlib.contextmanager
def _workdir(checkpoint_dir):
    """Where the token cache goes: inside the checkpoint folder (so a kill leaves nothing
    elsewhere), or a temporary folder; the cache is removed at the end."""
    if checkpoint_dir is None:
        with tempfile.TemporaryDirectory(prefix="zoo-word2vec-") as work:
            yield Path(work)
        return
    work = Path(checkpoint_dir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        yield work
    finally:
        (work / "tokens.i32").unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            work.rmdir()  # only if empty: no epoch was checkpointed (an error before the first)


def train(corpus, *, progress: bool = True, data_path=None, tokenizer: str = "simple", checkpoint_dir=None,
          overwrite: bool = False, **settings) -> Word2VecResult:
    """Train Word2Vec (skip-gram or CBOW with negative sampling) with gensim's settings.

    Args:
        corpus: ``"reuters"``, ``"lee"``, the path of a UTF-8 text file (one document per
            line) or of a folder of them (``*.txt``, ``*.text``, ``*.cor``, recursively), or any
            restartable iterable of token lists (as for gensim). It is streamed: one pass
            counts the words and writes the token ids to a cache file (4 bytes a word, in the
            checkpoint folder or a temporary one, removed at the end); the epochs read that.
        progress: show a progress bar with words/second and the loss of the last epoch (tqdm).
        data_path: where to look first for the Reuters files.
        tokenizer: for text files: ``"simple"`` (gensim's ``simple_preprocess``, lower-cased
            alphabetic tokens) or ``"whitespace"`` (``line.split()``, gensim's ``LineSentence``).
        checkpoint_dir: save the tables and history there after each epoch; a checkpoint found
            there is resumed (same settings and corpus), so a killed run ends with the same
            vectors as an uninterrupted one. Kept after training (the caller removes it).
        overwrite: start over, deleting a checkpoint in ``checkpoint_dir``.
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
        ValueError: a corpus file that changes during training (its size or modification
            time; the last checkpoint is kept); a checkpoint of other settings or another corpus.

    Example:
        >>> from zoo import word2vec
        >>> result = word2vec.train("lee", sg=1, epochs=2, progress=False)    # doctest: +SKIP
        >>> result.wv.most_similar("police", topn=3)                          # doctest: +SKIP
    """
    s = check_settings(settings)
    engine.use_compilation_cache()  # before the model is built: building it makes TensorFlow read its XLA flags
    source = resolve_corpus(corpus, data_path=data_path, tokenizer=tokenizer)
    corpus_name = vocab_mod.describe(source)
    checkpoint = _Checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
    state = None
    if checkpoint is not None:
        if overwrite:
            checkpoint.clear()
        state = checkpoint.load()
        if state is not None:
            changed = rundir.settings_changed(state["settings"], json.loads(json.dumps(s)))
            if changed:
                raise ValueError(f"checkpoint_dir: {checkpoint.dir} holds a checkpoint with other settings "
                                 f"({'; '.join(changed)}); use its settings to resume, overwrite=True "
                                 "(--overwrite) to start over, or another folder")
    with _workdir(checkpoint_dir) as work:
        start = time.perf_counter()
        words, counts, index, total, documents, cache = corpora.scan(
            source, work / "tokens.i32", piece_words=pipeline.PIECE_WORDS, max_vocab_size=s["max_vocab_size"])
        vocab = vocab_mod.from_counts(words, counts, total, documents, min_count=s["min_count"],
                                      max_final_vocab=s["max_final_vocab"], sample=s["sample"],
                                      ns_exponent=s["ns_exponent"], name=corpus_name)
        vocab_seconds = time.perf_counter() - start
        model = _create_model(s, len(vocab))
        start_epoch, history = 0, None
        if state is not None:
            if state["words"] != vocab.words or not np.array_equal(state["counts"], vocab.counts):
                raise ValueError(f"corpus: {corpus_name} is not the corpus checkpointed in {checkpoint.dir} (its "
                                 "vocabulary or counts differ); give that corpus, or overwrite=True (--overwrite) "
                                 "to start over")
            _assign(model, *state["tables"])
            start_epoch, history = int(state["epoch"]), state["history"]
        run = _run_epochs(model, vocab, s, cache, _mapping(index, vocab), source, progress=progress,
                          start_epoch=start_epoch, history=history, checkpoint=checkpoint, corpus_name=corpus_name)
    return Word2VecResult(model, vocab, s, train_seconds=run["train_seconds"], vocab_seconds=vocab_seconds,
                          compile_seconds=run["compile_seconds"], centre_words=run["centre_words"],
                          history=run["history"], tokenizer=tokenizer, resumed_from_epoch=start_epoch)
