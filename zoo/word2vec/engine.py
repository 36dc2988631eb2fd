"""The training step: gensim's negative-sampling updates as a few dense matrix products.

gensim walks the corpus one (centre, context) pair at a time, in C. Here one
TensorFlow step trains ``chunk_words`` consecutive centre words at once:

* **Blocks and bands (skip-gram).** The chunk is cut into blocks of ``block_size`` (T)
  centre words. Every context word of a block lies within ``window`` (W) of it, so a
  block needs the T + 2W input vectors around it. All (context, centre) scores of a
  block are one small matrix product ``X @ Y.T`` of shape (T + 2W, T); a 0/1 band
  mask keeps exactly the pairs gensim trains: ``|offset| <= b_centre`` (the
  centre's shrunken window), same document, not the centre itself.
* **Shifted rows (CBOW).** CBOW makes one prediction per centre word, from the sum of
  its context vectors, so no pair matrix is needed: for each offset ``o`` in
  ``-W..W`` (not 0) the chunk's input vectors shifted by ``o``, masked by the same
  rule, are added up (2W multiply-adds per centre instead of a (T + 2W, T) band),
  and the error goes back to the context words along the same shifts.
* **Shared negatives.** Each block draws ``shared_negatives`` (K) noise words from
  the unigram^ns_exponent distribution; every pair of the block uses them, each
  weighted ``negative / K``, so the expected update equals gensim's ``negative``
  independent draws, and the noise scores are one more matrix product. As in
  gensim, a noise word equal to the centre word is skipped.
* **gensim's arithmetic.** Plain SGD on the log-sigmoid loss, no update where
  ``|score| >= 6`` (gensim's ``MAX_EXP``), CBOW's mean (or sum) of the context
  vectors with the full error given back to every context word, the learning
  rate ``alpha -> min_alpha`` decaying linearly with the words seen.
* **Sparse row updates.** Only the rows a step touched change: the updates are
  scatter-added into the two Keras ``Embedding`` tables. All reads of a step see
  the tables as they were at its start (gensim's sequential updates see each
  other); a word occurring so often in one step that ``lr * occurrences`` exceeds
  ``max_row_step`` has its summed update scaled down to that, which keeps the most
  frequent words from overshooting (sequential updates would see each other).
* **Speed.** Skip-gram: the gradient of each part of a step (``parts``, one per CPU
  core) is one XLA-compiled function; TensorFlow runs the parts concurrently, then
  one XLA function applies all updates in a fixed order, so a seeded run is
  repeatable bit for bit. CBOW: the whole step (gradient and updates) is one XLA
  function, whose work XLA's own threads share (measured faster than concurrent
  parts for CBOW's shorter step). ``steps_per_call`` steps run inside one call.
"""

from __future__ import annotations

import functools

import numpy as np

#: gensim's MAX_EXP: no update for a pair whose score is beyond +-6.
MAX_EXP = 6.0


def compilation_cache_dir():
    """Where XLA keeps the compiled steps between processes: ``$ZOO_XLA_CACHE``, or
    ``$XDG_CACHE_HOME/zoo/xla`` (``~/.cache/zoo/xla``); ``ZOO_XLA_CACHE=0`` turns it off (None)."""
    import os
    from pathlib import Path

    value = os.environ.get("ZOO_XLA_CACHE")
    if value is not None:
        return None if value.strip() in ("", "0") else Path(value)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zoo" / "xla"


def use_compilation_cache() -> None:
    """Turn on TensorFlow's persistent XLA cache (``--tf_xla_persistent_cache_directory``).

    XLA compiling the step is most of the fixed cost of a run (the first call takes 0.6-0.85 s
    on two cores, 0.33-0.42 s with the step loaded from the cache), the same for every run
    with the same settings and vocabulary size: a later run loads the compiled step instead.
    TensorFlow reads ``TF_XLA_FLAGS`` once per process, when it first needs one of its XLA
    flags (building a Keras model is enough), so :func:`zoo.word2vec.train` calls this before it
    builds the model; a process that built one earlier compiles every time. A cache directory
    already set in ``TF_XLA_FLAGS`` is left alone. Processes may share the directory: TensorFlow
    writes each entry to a unique temporary file and renames it into place.
    """
    import os

    directory = compilation_cache_dir()
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if directory is None or "tf_xla_persistent_cache_directory" in flags:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # no writable cache: compile every time
    os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={directory}".strip()


def build_train_function(input_table, output_table, *, sg: int, window: int, block_size: int, part_words: int,
                         parts: int, negative: int, shared_negatives: int, cbow_mean: int, max_row_step):
    """A ``tf.function(tok, doc, reduced, noise, lr)`` that trains in place and returns the loss.

    Args:
        input_table, output_table: the two ``tf.Variable`` embedding tables (vocab, dim).
        sg: 1 skip-gram, 0 CBOW.
        window: gensim's ``window`` (W).
        block_size: centre words per block (T); ``part_words`` is a multiple of it.
        part_words: centre words of one part of a step.
        parts: parts per step, computed concurrently.
        negative: gensim's ``negative``.
        shared_negatives: noise words drawn per block (K).
        cbow_mean: gensim's ``cbow_mean``.
        max_row_step: cap on ``lr * occurrences`` of a row in one step (None = no cap).

    The returned function takes, for ``S`` steps of ``parts`` parts each:
    ``tok``, ``doc`` int32 ``(S, parts, part_words + 2W)``: word ids and document
    ids of the centre words with ``W`` neighbours on each side (document -1 =
    padding); ``reduced`` int32 ``(S, parts, part_words)``: each centre's window;
    ``noise`` int32 ``(S, parts, part_words // T, K)``; ``lr`` float32 ``(S,)``. It returns
    the float64 sum of gensim's ``compute_loss`` terms over the pairs trained (``-log sigmoid``
    of the true word's score plus, per noise word, ``-log sigmoid(-score)``, pairs beyond
    ``MAX_EXP`` left out, as gensim leaves them out), noise words weighted as in the update.
    """
    use_compilation_cache()
    import tensorflow as tf

    W, T, K = int(window), int(block_size), int(shared_negatives)
    L = int(part_words)
    nb = L // T
    vocab, dim = (int(d) for d in input_table.shape)
    noise_weight = float(negative) / K
    # Row j of a block's context matrix is chunk position b*T + j; centre i is b*T + W + i.
    context_rows = tf.constant(np.arange(nb)[:, None] * T + np.arange(T + 2 * W)[None, :], tf.int32)
    offsets = [o for o in range(-W, W + 1) if o]                   # CBOW: context offsets
    offset = tf.constant(np.arange(T + 2 * W)[:, None] - W - np.arange(T)[None, :], tf.int32)  # context - centre

    def error_and_loss(score, label):
        """gensim's ``(label - sigmoid(score))`` and its ``compute_loss`` term ``-log sigmoid(+-score)``,
        both zero where |score| >= MAX_EXP (gensim skips such a pair, for the update and the loss)."""
        inside = tf.cast(tf.abs(score) < MAX_EXP, score.dtype)
        # The loss term from the same sigmoid (one log per score instead of log_sigmoid's exp and
        # log1p: 10% of a CBOW step). Clipped to MAX_EXP, p stays in [0.0025, 0.9975], so the log
        # is finite and 1 - p loses no digits that matter; outside, both terms are zeroed anyway.
        p = tf.sigmoid(tf.clip_by_value(score, -MAX_EXP, MAX_EXP))
        return (label - p) * inside, -tf.math.log(p if label else 1.0 - p) * inside

    def overlap_add(d):
        """Blocks overlap by 2W words: add the (nb, T+2W, d) block rows per chunk position, giving
        (L+2W, d). Each block is cut into runs of T rows; run j of block b starts at position
        (b + j) * T, so each run, laid end to end over all blocks, is one shifted (L, d) slab
        (slabs and adds, where a segment sum would be a serial scatter)."""
        runs = -(-(T + 2 * W) // T)
        d = tf.pad(d, [[0, 0], [0, runs * T - T - 2 * W], [0, 0]])
        total = tf.add_n([tf.pad(tf.reshape(d[:, j * T:(j + 1) * T], [L, dim]), [[j * T, (runs - 1 - j) * T], [0, 0]])
                          for j in range(runs)])
        return total[:L + 2 * W]

    @tf.function(jit_compile=True, autograph=False)
    def part_updates(table_in, table_out, tok, doc, reduced, noise, lr):
        """Skip-gram: every (context, centre) pair of a block, as band-masked matrix products."""
        doc_ctx = tf.gather(doc, context_rows)                     # (nb, T+2W) context documents
        tok_ctr = tf.reshape(tok[W:W + L], [nb, T])                # (nb, T) centre word ids
        doc_ctr = tf.reshape(doc[W:W + L], [nb, T])
        win = tf.reshape(reduced, [nb, T])
        # The band: the (context, centre) pairs gensim trains.
        pair = ((offset[None] != 0) & (tf.abs(offset)[None] <= win[:, None, :])
                & (doc_ctx[:, :, None] == doc_ctr[:, None, :]) & (doc_ctr[:, None, :] >= 0))
        pair = tf.cast(pair, tf.float32)                           # (nb, T+2W, T)
        not_centre = tf.cast(tok_ctr[:, :, None] != noise[:, None, :], tf.float32)  # (nb, T, K)
        x_rows = tf.gather(table_in, tok)                          # (L+2W, d) input vectors of the chunk
        x = tf.gather(x_rows, context_rows)                        # (nb, T+2W, d) the same, per block
        y = tf.gather(table_out, tok_ctr)                          # (nb, T, d) output vectors of centres
        z = tf.gather(table_out, noise)                            # (nb, K, d) output vectors of noise words
        # gensim's skip-gram: the context word's input vector predicts the centre word.
        targets = tf.concat([y, z], 1)                             # (nb, T+K, d)
        score = tf.matmul(x, targets, transpose_b=True)            # (nb, T+2W, T+K)
        uses = tf.matmul(pair, not_centre)                         # (nb, T+2W, K): pairs using each noise word
        e_pos, l_pos = error_and_loss(score[..., :T], 1.0)
        e_neg, l_neg = error_and_loss(score[..., T:], 0.0)
        g = tf.concat([pair * e_pos, uses * (noise_weight * e_neg)], -1) * lr
        loss = tf.reduce_sum(pair * l_pos) + noise_weight * tf.reduce_sum(uses * l_neg)
        d_in = tf.matmul(g, targets)                               # (nb, T+2W, d)
        d_out = tf.matmul(g, x, transpose_a=True)                  # (nb, T+K, d)
        d_in = overlap_add(d_in)
        return (tok, d_in,
                tf.reshape(tf.concat([tok_ctr, noise], 1), [-1]), tf.reshape(d_out, [-1, dim]), loss)

    def cbow_part_updates(table_in, table_out, tok, doc, reduced, noise, lr):
        """CBOW without blocks of pairs: each centre's context is the 2W shifted rows around it."""
        tok_ctr, doc_ctr = tok[W:W + L], doc[W:W + L]                # (L,) centre words
        # mask[o][i]: the word at offset o of centre i is one of its context words (gensim's rule).
        mask = [tf.cast((doc[W + o:W + o + L] == doc_ctr) & (doc_ctr >= 0) & (reduced >= abs(o)), tf.float32)
                for o in offsets]
        count = tf.add_n(mask)                                       # (L,) context words per centre
        has_context = tf.cast(count > 0, tf.float32)
        x_rows = tf.gather(table_in, tok)                            # (L+2W, d) input vectors of the part
        h = tf.add_n([m[:, None] * x_rows[W + o:W + o + L] for m, o in zip(mask, offsets)])  # (L, d) context sums
        if cbow_mean:
            h = h / tf.maximum(count, 1.0)[:, None]
        y = tf.gather(table_out, tok_ctr)                            # (L, d) output vectors of centres
        z = tf.gather(table_out, noise)                              # (nb, K, d) output vectors of noise words
        hb = tf.reshape(h, [nb, T, dim])
        not_centre = tf.cast(tf.reshape(tok_ctr, [nb, T])[:, :, None] != noise[:, None, :], tf.float32)  # (nb, T, K)
        e_pos, l_pos = error_and_loss(tf.reduce_sum(h * y, -1), 1.0)                            # (L,)
        e_neg, l_neg = error_and_loss(tf.matmul(hb, z, transpose_b=True), 0.0)                   # (nb, T, K)
        neg_weight = tf.reshape(has_context, [nb, T])[..., None] * not_centre * noise_weight
        g_pos = has_context * e_pos * lr
        g_neg = neg_weight * e_neg * lr
        loss = tf.reduce_sum(has_context * l_pos) + tf.reduce_sum(neg_weight * l_neg)
        d_h = g_pos[:, None] * y + tf.reshape(tf.matmul(g_neg, z), [L, dim])                   # (L, d)
        if not cbow_mean:
            d_h = d_h / tf.maximum(count, 1.0)[:, None]
        # Every context word gets the full error: the same shifted rows, added back.
        # d_in[k] = sum over o of mask[o][c] * d_h[c] with c = k - W - o (read from zero-padded copies).
        mask_pad = tf.pad(tf.stack(mask), [[0, 0], [2 * W, 2 * W]])
        d_h_pad = tf.pad(d_h, [[2 * W, 2 * W], [0, 0]])
        d_in = tf.add_n([mask_pad[k, W - o:3 * W - o + L, None] * d_h_pad[W - o:3 * W - o + L]
                         for k, o in enumerate(offsets)])
        d_out = tf.concat([tf.reshape(g_pos[:, None] * h, [nb, T, dim]), tf.matmul(g_neg, hb, transpose_a=True)], 1)
        return (tok, d_in,
                tf.reshape(tf.concat([tf.reshape(tok_ctr, [nb, T]), noise], 1), [-1]), tf.reshape(d_out, [-1, dim]),
                loss)

    def capped(rows, update, lr):
        """Scale a row's summed update down so that ``lr * occurrences <= max_row_step``."""
        if not max_row_step:
            return update
        occurrences = tf.math.unsorted_segment_sum(tf.ones_like(rows, tf.float32), rows, vocab)
        scale = tf.minimum(1.0, max_row_step / (lr * tf.gather(occurrences, rows)))
        return update * scale[:, None]

    def update_tables(results, lr):
        rows_in, d_in, rows_out, d_out = (tf.concat([r[k] for r in results], 0) for k in range(4))
        input_table.scatter_add(tf.IndexedSlices(capped(rows_in, d_in, lr), rows_in))
        output_table.scatter_add(tf.IndexedSlices(capped(rows_out, d_out, lr), rows_out))

    def step_of(part_fn, apply):
        """A step: every part's updates, computed from the tables as they stand, then ``apply``;
        returns the step's loss (float32: a few thousand terms)."""
        def step(tok, doc, reduced, noise, lr):
            table_in, table_out = input_table.read_value(), output_table.read_value()
            results = [part_fn(table_in, table_out, tok[p], doc[p], reduced[p], noise[p], lr) for p in range(parts)]
            apply(results, lr)
            return tf.add_n([r[4] for r in results])
        return step

    xla = functools.partial(tf.function, jit_compile=True, autograph=False)
    if sg:  # the parts' gradients (each its own XLA function, run concurrently), then one XLA function applies them
        step = step_of(part_updates, xla(update_tables))
    else:  # CBOW: the whole step as one XLA function; XLA's own threads share its work (measured faster for CBOW)
        step = xla(step_of(cbow_part_updates, update_tables))
    spec = tf.TensorSpec
    signature = [spec([None, parts, L + 2 * W], tf.int32), spec([None, parts, L + 2 * W], tf.int32),
                 spec([None, parts, L], tf.int32), spec([None, parts, nb, K], tf.int32), spec([None], tf.float32)]

    # autograph=False everywhere: the loop is written as tf.while_loop, which halves the tracing time.
    @tf.function(input_signature=signature, autograph=False)
    def train_steps(tok, doc, reduced, noise, lr):
        def one_step(s, loss):
            step_loss = step(tok[s], doc[s], reduced[s], noise[s], lr[s])
            return s + 1, loss + tf.cast(step_loss, tf.float64)  # float64 across steps: no overflow, no lost digits

        steps = tf.shape(tok)[0]
        _, loss = tf.while_loop(lambda s, _: s < steps, one_step, (tf.constant(0), tf.constant(0.0, tf.float64)),
                                parallel_iterations=1)  # steps in order
        return loss

    return train_steps


def empty_inputs(*, parts: int, part_words: int, window: int, block_size: int, shared_negatives: int):
    """One step's inputs that train nothing (every position is padding): a warm-up call
    that traces and compiles the train function without changing the tables."""
    width = part_words + 2 * window
    return (np.zeros((1, parts, width), np.int32), np.full((1, parts, width), -1, np.int32),
            np.ones((1, parts, part_words), np.int32),
            np.zeros((1, parts, part_words // block_size, shared_negatives), np.int32), np.zeros(1, np.float32))
