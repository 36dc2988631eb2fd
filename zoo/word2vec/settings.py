"""The settings of a Word2Vec run: gensim's names, meanings and defaults, checked in one place.

One dict of settings drives both libraries: ``gensim.models.Word2Vec(**settings)``
and :func:`zoo.word2vec.train` (``corpus, **settings``). Every default below is
gensim 4.4's, so leaving a setting out means the same thing in both.

The second dict, :data:`ENGINE_DEFAULTS`, holds the settings of this
implementation's training engine, which gensim does not have (how many words one
TensorFlow step trains, how negatives are shared). They change speed, not what is
being optimised; the defaults are the ones measured to reach gensim's quality.
"""

from __future__ import annotations

import difflib
import numbers

from .. import checks

#: gensim 4.4 ``Word2Vec`` defaults (``help(gensim.models.Word2Vec)``).
GENSIM_DEFAULTS = {
    "sg": 0,                # 0 = CBOW, 1 = skip-gram
    "vector_size": 100,     # dimensions of each word vector
    "window": 5,            # maximum distance between the centre word and a context word
    "shrink_windows": True, # draw each centre's window uniformly from 1..window (word2vec.c's "reduced window")
    "alpha": 0.025,         # initial learning rate ...
    "min_alpha": 0.0001,    # ... decaying linearly to this over all epochs
    "negative": 5,          # noise words per positive example (negative sampling)
    "ns_exponent": 0.75,    # noise distribution: unigram counts to this power
    "sample": 1e-3,         # subsampling threshold for frequent words (0 = off)
    "min_count": 5,         # ignore words seen fewer times than this
    "max_vocab_size": None, # prune rare words while scanning when the vocabulary grows past this
    "max_final_vocab": None,# keep at most this many words (raises the effective min_count)
    "epochs": 5,            # passes over the corpus
    "seed": 1,              # seeds the initial vectors and every random draw
    "cbow_mean": 1,         # CBOW: 1 = mean of the context vectors, 0 = their sum
    "hs": 0,                # hierarchical softmax: not implemented here (negative sampling only)
    "workers": 3,           # gensim's worker threads; this implementation uses TensorFlow's thread pool
}

#: This implementation's engine settings (not gensim's). Measured on Reuters
#: (bench/word2vec_vs_gensim.py, tests/test_word2vec.py): with these the quality
#: matches gensim's; larger steps are faster but let frequent words overshoot.
ENGINE_DEFAULTS = {
    "chunk_words": None,      # centre words trained per step (one set of stale reads, one update); None = per mode below
    "block_size": None,       # centre words per block; a block shares its noise words; None = per mode below
    "shared_negatives": None, # noise words drawn per block (None = 4 * negative, each weighted negative / shared;
                              # fewer match gensim's neighbours less, bench/README.md)
    "max_row_step": None,     # a word's summed update in one step is capped at lr * occurrences = this (skip-gram's 0.2:
                              # 8 at alpha 0.025); left out = per mode below; None given explicitly = no cap
    "parts": None,            # a step's centre words are split into this many parts; None = per mode below
    "steps_per_call": None,   # steps run inside one TensorFlow call (fewer Python round trips); None = per mode below
}

#: The engine settings above, per mode (``sg``), for those left out or at None. Measured on Reuters
#: (bench/word2vec_vs_gensim.py and ``compare``, the issue's bars): skip-gram's step trains every
#: (context, centre) pair and overshoots with larger steps; CBOW's step makes one prediction per
#: centre, so it takes larger steps and blocks of 64 (its noise words are shared by more
#: centres) at the same quality, which halves the steps and the noise rows to update. CBOW with
#: blocks of 128, or 10 shared negatives, fell under the 80% neighbour-overlap bar.
#: ``parts``: skip-gram computes its two parts concurrently (one per core); CBOW's whole step is
#: one XLA function whose work XLA's threads share, which measured faster with one part.
#: ``steps_per_call``: CBOW's steps are short (a few ms), so it runs more of them per call.
#: Skip-gram's 4,096 centre words a step (2,048 before) halve the steps and their fixed cost (the
#: table update runs on one core) within the quality bars (neighbour overlap 84%); 8,192 was no
#: faster and left less margin (81%), blocks of 32 fell under the bar (77%).
#: CBOW's larger steps need a looser ``max_row_step`` to keep the quality bars (the values tried and
#: what each gave are in bench/README.md).
MODE_DEFAULTS = {
    1: {"chunk_words": 4096, "block_size": 16, "parts": 2, "steps_per_call": 16, "max_row_step": 0.2},   # skip-gram
    0: {"chunk_words": 8192, "block_size": 64, "parts": 1, "steps_per_call": 32, "max_row_step": 0.3},   # CBOW
}

ALLOWED = tuple(GENSIM_DEFAULTS) + tuple(ENGINE_DEFAULTS)

#: gensim's hard limit: a document longer than this (after dropping unknown and
#: subsampled words) is cut at this length (``gensim.models.word2vec_inner.MAX_WORDS_IN_BATCH``).
MAX_WORDS_PER_DOCUMENT = 10000


def _zero_one(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value not in (0, 1):
        if isinstance(value, bool):
            return int(value)
        raise ValueError(f"{name} must be 0 or 1, got {value!r}")
    return int(value)


def _optional_int(name: str, value, minimum: int = 1):
    return None if value is None else checks.positive_int(name, value, minimum=minimum)


def check_settings(settings: dict) -> dict:
    """Fill in the defaults and check every setting; return the complete, normalised dict.

    Args:
        settings: any of :data:`GENSIM_DEFAULTS` and :data:`ENGINE_DEFAULTS` by name.

    Returns:
        dict with every key of both, defaults filled in.

    Raises:
        ValueError, TypeError: an unknown name (with close matches) or a value
            outside what is allowed; the message names the setting.

    Example:
        >>> check_settings({"sg": 1, "window": 3})["window"]
        3
    """
    unknown = sorted(set(settings) - set(ALLOWED))
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, ALLOWED, n=1, cutoff=0.6)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"unknown Word2Vec setting(s) {', '.join(hints)}; allowed: {', '.join(ALLOWED)}")
    s = {**GENSIM_DEFAULTS, **ENGINE_DEFAULTS, **settings}
    s["sg"] = _zero_one("sg", s["sg"])
    s["cbow_mean"] = _zero_one("cbow_mean", s["cbow_mean"])
    s["vector_size"] = checks.positive_int("vector_size", s["vector_size"])
    s["window"] = checks.positive_int("window", s["window"])
    if not isinstance(s["shrink_windows"], (bool, int)) or s["shrink_windows"] not in (0, 1, True, False):
        raise TypeError(f"shrink_windows must be True or False, got {s['shrink_windows']!r}")
    s["shrink_windows"] = bool(s["shrink_windows"])
    s["alpha"] = checks.positive("alpha", s["alpha"])
    s["min_alpha"] = checks.non_negative("min_alpha", s["min_alpha"])
    if isinstance(s["negative"], numbers.Integral) and not isinstance(s["negative"], bool) and s["negative"] < 1:
        raise ValueError(
            f"negative must be an integer >= 1 (noise words per positive example), got {s['negative']!r}; "
            "hierarchical softmax (hs=1, negative=0) is not implemented"
        )
    s["negative"] = checks.positive_int("negative", s["negative"])
    s["ns_exponent"] = checks.number_in_range("ns_exponent", s["ns_exponent"])
    s["sample"] = checks.non_negative("sample", s["sample"])
    s["min_count"] = checks.positive_int("min_count", s["min_count"], minimum=0)
    s["max_vocab_size"] = _optional_int("max_vocab_size", s["max_vocab_size"])
    s["max_final_vocab"] = _optional_int("max_final_vocab", s["max_final_vocab"])
    s["epochs"] = checks.positive_int("epochs", s["epochs"])
    s["seed"] = checks.positive_int("seed", s["seed"], minimum=0)
    if s["hs"] not in (0, False):
        raise ValueError(f"hs must be 0: hierarchical softmax is not implemented, only negative sampling; got hs={s['hs']!r}")
    s["hs"] = 0
    s["workers"] = checks.positive_int("workers", s["workers"])
    for name, value in MODE_DEFAULTS[s["sg"]].items():
        # A mode's default fills a setting left out, or left at None (except max_row_step: None = no cap).
        if name not in settings or (s[name] is None and name != "max_row_step"):
            s[name] = value
    s["block_size"] = checks.positive_int("block_size", s["block_size"])
    s["parts"] = checks.positive_int("parts", s["parts"])
    s["chunk_words"] = checks.positive_int("chunk_words", s["chunk_words"])
    if s["chunk_words"] % (s["block_size"] * s["parts"]):
        raise ValueError(f"chunk_words must be a multiple of block_size * parts ({s['block_size']} * {s['parts']}), "
                         f"got {s['chunk_words']}")
    if s["shared_negatives"] is None:
        s["shared_negatives"] = 4 * s["negative"]
    s["shared_negatives"] = checks.positive_int("shared_negatives", s["shared_negatives"])
    if s["max_row_step"] is not None:
        s["max_row_step"] = checks.positive("max_row_step", s["max_row_step"])
    s["steps_per_call"] = checks.positive_int("steps_per_call", s["steps_per_call"])
    return s


def gensim_settings(settings: dict) -> dict:
    """The subset of ``settings`` that ``gensim.models.Word2Vec`` takes (engine settings dropped)."""
    return {k: v for k, v in settings.items() if k in GENSIM_DEFAULTS}
