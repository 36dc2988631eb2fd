"""Word2Vec at scale: streamed corpora (files, folders, iterables), the loss per epoch, continued
training with gensim's vocabulary update, and checkpoints that survive a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import numpy as np
import pytest

from zoo import datasets, word2vec
from zoo.word2vec import corpora, pipeline, trainer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lee():
    return list(datasets.corpus("lee"))


def _lee_lines():
    from gensim.test.utils import datapath

    return Path(datapath("lee_background.cor")).read_text(encoding="utf-8").splitlines()


# ---------------------------------------------------------------- corpora


def test_text_sources_tokenise_as_gensim_in_blocks_and_read_folders(tmp_path, monkeypatch):
    from gensim.models.word2vec import LineSentence
    from gensim.utils import simple_preprocess

    lines = _lee_lines()[:60] + ["", "Ünïcode ÉCOLE naïve 3rd x_y _under 42 " + "a" * 41 + " b" * 3, "  \t ",
                                 "tabs\tand  spaces\r", "long " * 300]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(corpora, "BLOCK_BYTES", 100)  # blocks far smaller than some lines
    simple = list(corpora.TextSource(path, "simple"))
    assert simple == [t for t in (simple_preprocess(line, min_len=1, max_len=40) for line in lines) if t]
    assert list(corpora.TextSource(path, "whitespace")) == [t for t in LineSentence(str(path)) if t]
    assert len(list(corpora.TextSource(path).blocks())) > 10  # it did read in blocks

    folder = tmp_path / "texts"
    (folder / "b").mkdir(parents=True)
    (folder / "b" / "two.txt").write_text("two words\n", encoding="utf-8")
    (folder / "a.cor").write_text("one\n\nthree\n", encoding="utf-8")
    (folder / "notes.md").write_text("not a text file\n", encoding="utf-8")
    (folder / ".hidden.txt").write_text("hidden\n", encoding="utf-8")
    source = corpora.TextSource(folder, "whitespace")
    assert [p.name for p in source.files] == ["a.cor", "two.txt"]
    assert list(source) == [["one"], ["three"], ["two", "words"]]


def test_streaming_holds_one_piece_and_trains_as_the_list(lee, monkeypatch):
    """The trainer never holds the corpus: documents alive at once stay within one piece."""

    class Doc(list):
        __hash__ = object.__hash__  # by identity, to be tracked in a WeakSet

    alive = weakref.WeakSet()
    peak = [0]

    class Corpus:
        name = "tracked"

        def __iter__(self):
            for tokens in lee[:240]:
                doc = Doc(tokens)
                alive.add(doc)
                peak[0] = max(peak[0], len(alive))
                yield doc
                del doc

    piece = 2000
    monkeypatch.setattr(pipeline, "PIECE_WORDS", piece)
    streamed = word2vec.train(Corpus(), sg=0, epochs=2, seed=2, progress=False)
    # Pieces are whole documents until at least `piece` words: the most documents one piece holds.
    most, count, words = 0, 0, 0
    for doc in lee[:240]:
        count, words = count + 1, words + len(doc)
        most = max(most, count)
        if words >= piece:
            count = words = 0
    assert peak[0] <= most + 1 and most < 40, (peak[0], most)  # of 240 documents
    listed = word2vec.train(lee[:240], sg=0, epochs=2, seed=2, progress=False)
    np.testing.assert_array_equal(streamed.vectors, listed.vectors)
    # The loss per epoch: gensim's compute_loss sum, in float64, one per epoch, falling.
    loss = streamed.history["loss"]
    assert len(loss) == 2 and all(isinstance(x, float) and np.isfinite(x) and x > 0 for x in loss)
    assert loss == listed.history["loss"] and streamed.summary()["loss_per_epoch"] == [round(x, 1) for x in loss]


def test_loss_is_gensims_compute_loss(lee):
    from gensim.models import Word2Vec

    g = Word2Vec(sg=0, epochs=1, seed=3, workers=1)
    g.build_vocab(lee)
    g.train(lee, total_examples=g.corpus_count, epochs=1, compute_loss=True)
    ours = word2vec.train(lee, sg=0, epochs=1, seed=3, progress=False)
    # Same sum over the same pairs (noise words weighted as in the update); the training paths
    # differ a little (shared noise words, a step's stale reads), the totals within 5%.
    assert ours.history["loss"][0] == pytest.approx(g.get_latest_training_loss(), rel=0.05)


# ---------------------------------------------------------------- continued training


def test_train_more_updates_the_vocabulary_as_gensim(lee):
    from gensim.models import Word2Vec

    first, more = lee[:150], lee[150:]
    g = Word2Vec(sg=0, epochs=1, seed=3, workers=1)
    g.build_vocab(first)
    ours = word2vec.train(first, sg=0, epochs=1, seed=3, progress=False)
    old_words, before = list(ours.vocab.words), ours.vectors.copy()
    g.build_vocab(more, update=True)
    assert ours.train_more(more, epochs=2, progress=False) is ours
    assert ours.vocab.words == g.wv.index_to_key and len(ours.vocab.words) > len(old_words)
    np.testing.assert_array_equal(ours.vocab.counts, g.wv.expandos["count"])
    # gensim's subsampling (sample_int = probability * 2**32) and noise table (cum_table, domain 2**31 - 1).
    np.testing.assert_allclose(ours.vocab.keep_probability * 2.0 ** 32, g.wv.expandos["sample_int"], rtol=1e-6)
    np.testing.assert_allclose(ours.vocab.noise_cdf * (2 ** 31 - 1), g.cum_table, atol=2)
    assert ours.vectors.shape == (len(g.wv), 100) and len(ours.history["loss"]) == 3
    assert not np.allclose(ours.vectors[:len(old_words)], before)  # the old words trained on
    assert ours.wv.most_similar(ours.vocab.words[-1], topn=1)       # a new word has a vector


# ---------------------------------------------------------------- checkpoints

_KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from zoo import word2vec
    from zoo.word2vec import trainer

    save = trainer._Checkpoint.save

    def save_then_die(self, *args, epoch, **kwargs):
        save(self, *args, epoch=epoch, **kwargs)
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)

    trainer._Checkpoint.save = save_then_die
    word2vec.train(sys.argv[1], sg=1, epochs=3, seed=5, min_count=2, progress=False, checkpoint_dir=sys.argv[2])
""")


def test_a_run_killed_after_an_epoch_resumes_to_the_same_vectors(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(_lee_lines()[:120]) + "\n", encoding="utf-8")
    checkpoint = tmp_path / "checkpoint"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "TF_CPP_MIN_LOG_LEVEL": "2", "ZOO_XLA_CACHE": str(tmp_path / "xla")}
    env.pop("TF_XLA_FLAGS", None)
    done = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(corpus), str(checkpoint)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert json.loads((checkpoint / "state.json").read_text())["epoch"] == 1
    # The compiled step went to the persistent XLA cache (train() turns it on before TensorFlow reads its flags).
    assert list((tmp_path / "xla").glob("*XLA_CPU*")), "no compiled step in ZOO_XLA_CACHE"

    settings = {"sg": 1, "epochs": 3, "seed": 5, "min_count": 2, "progress": False}
    resumed = word2vec.train(corpus, checkpoint_dir=checkpoint, **settings)
    whole = word2vec.train(corpus, **settings)
    assert resumed.resumed_from_epoch == 1 and whole.resumed_from_epoch == 0
    np.testing.assert_array_equal(resumed.vectors, whole.vectors)
    assert resumed.history == whole.history
    assert json.loads((checkpoint / "state.json").read_text())["epoch"] == 3
    assert not (checkpoint / "tokens.i32").exists()

    # A checkpoint of other settings is not resumed silently.
    with pytest.raises(ValueError, match=r"checkpoint_dir: .* holds a checkpoint with other settings \(epochs: 3 in "
                                         r"the checkpoint, 4 now\); .*overwrite=True"):
        word2vec.train(corpus, checkpoint_dir=checkpoint, **{**settings, "epochs": 4})


def test_a_corpus_file_that_changes_between_epochs_stops_training(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(_lee_lines()[:60]) + "\n", encoding="utf-8")
    save = trainer._Checkpoint.save

    def save_then_edit(self, *args, epoch, **kwargs):
        save(self, *args, epoch=epoch, **kwargs)
        with open(corpus, "a", encoding="utf-8") as f:
            f.write("an extra line\n")

    monkeypatch.setattr(trainer._Checkpoint, "save", save_then_edit)
    checkpoint = tmp_path / "checkpoint"
    with pytest.raises(ValueError, match=r"^corpus: .*corpus.txt changed \(size or modification time\) during "
                                         r"training; .*the last checkpoint, if any, is kept\)$"):
        word2vec.train(corpus, sg=0, epochs=3, min_count=2, progress=False, checkpoint_dir=checkpoint)
    assert json.loads((checkpoint / "state.json").read_text())["epoch"] == 1  # nothing lost
    assert not (checkpoint / "tokens.i32").exists()
    # Resuming on a corpus whose words differ from the checkpointed one is refused.
    monkeypatch.setattr(trainer._Checkpoint, "save", save)
    with pytest.raises(ValueError, match=r"corpus: .*corpus.txt is not the corpus checkpointed in"):
        word2vec.train(corpus, sg=0, epochs=3, min_count=2, progress=False, checkpoint_dir=checkpoint)
