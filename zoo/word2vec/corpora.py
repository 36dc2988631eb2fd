"""Corpora streamed from disk, and the token-id cache written by the vocabulary pass.

A corpus is one of: a UTF-8 text file (one document per line), a folder of such
files (:data:`TEXT_SUFFIXES`, searched recursively, in sorted path order), or any
restartable iterable of token lists. Nothing here holds the corpus whole:

* :class:`TextSource` reads its files in blocks of about ``BLOCK_BYTES`` and
  tokenises a block at a time, with ``tokenizer="simple"`` (gensim's
  ``simple_preprocess(min_len=1, max_len=40)``, as one regular expression over the
  lower-cased block: the same tokens, several times faster than calling it per
  line) or ``"whitespace"`` (``line.split()``, gensim's ``LineSentence``).
* A document longer than :data:`MAX_WORDS_PER_DOCUMENT` words, from a file or a list, is
  read as pieces of that many words (:func:`split_long`, gensim's ``LineSentence``).
* :func:`scan` is the vocabulary pass: it counts the words and, on the way, writes
  every token as an int32 id (in order of first occurrence) to a cache file, cut
  into pieces of whole documents of about ``piece_words`` words. The epochs read
  the pieces back (:meth:`TokenCache.pieces`) instead of reading and tokenising
  the corpus again: memory holds the vocabulary and one piece, the disk holds 4
  bytes per corpus word (plus 4 per document).

A file that changes between epochs is detected by its size and modification time
(:meth:`TextSource.check_unchanged`).
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import files
from .settings import MAX_WORDS_PER_DOCUMENT

#: What counts as a text file inside a corpus folder.
TEXT_SUFFIXES = (".txt", ".text", ".cor")
TOKENIZERS = ("simple", "whitespace")
BLOCK_BYTES = 8 << 20
# gensim's simple_preprocess: PAT_ALPHABETIC (letters/underscores, no digits) on the lower-cased
# text, tokens of 1..40 characters not starting with "_" (non-capturing, so findall returns strings).
_ALPHABETIC = re.compile(r"(?:(?![\d])\w)+", re.UNICODE)


def _simple(text: str) -> list:
    return [[t for t in _ALPHABETIC.findall(line) if len(t) <= 40 and t[0] != "_"] for line in text.lower().split("\n")]


def _whitespace(text: str) -> list:
    return [line.split() for line in text.split("\n")]


def split_long(docs):
    """``docs`` with every document longer than :data:`MAX_WORDS_PER_DOCUMENT` words cut into pieces of
    that many (the last one shorter), as gensim's ``LineSentence`` cuts a long line.

    gensim's training loop takes at most that many words of a document and drops the rest
    silently; cut here, before the words are counted, every counted word is trained, so
    ``corpus_words`` and words/second count words that were trained.
    """
    for doc in docs:
        if isinstance(doc, (str, bytes)) or not hasattr(doc, "__len__") or len(doc) <= MAX_WORDS_PER_DOCUMENT:
            yield doc  # a bad document is named by the check of whoever reads it
        else:
            for start in range(0, len(doc), MAX_WORDS_PER_DOCUMENT):
                yield doc[start:start + MAX_WORDS_PER_DOCUMENT]


def check_tokenizer(tokenizer) -> str:
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"tokenizer must be one of {', '.join(map(repr, TOKENIZERS))}, got {tokenizer!r}")
    return tokenizer


def _fingerprint(path: Path) -> tuple:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)


class TextSource:
    """A text file or a folder of text files as a restartable iterable of token lists.

    Args:
        path: the file, or a folder (its :data:`TEXT_SUFFIXES` files, recursively, sorted).
        tokenizer: ``"simple"`` or ``"whitespace"`` (see the module docstring).

    Raises:
        DatasetNotFoundError: no such file or folder.
        ValueError: a folder without text files; an unknown tokenizer.
    """

    def __init__(self, path, tokenizer: str = "simple"):
        from ..datasets import DatasetNotFoundError

        self.tokenizer = check_tokenizer(tokenizer)
        path = Path(path)
        if path.is_dir():
            self.files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
                                and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not self.files:
                raise ValueError(f"corpus: folder {str(path)!r} has no text files (a text file ends in "
                                 f"{', '.join(TEXT_SUFFIXES)}; searched recursively, hidden ones skipped)")
        elif path.is_file():
            self.files = [path]
        else:
            raise DatasetNotFoundError(f"corpus: no such file {str(path)!r} (give a text file, a folder of text "
                                       "files, 'reuters' or 'lee')")
        self.name = str(path)
        self.fingerprints = {p: _fingerprint(p) for p in self.files}

    def check_unchanged(self) -> None:
        """Raise if a file's size or modification time differs from when this source was opened.

        Raises:
            ValueError: names the file.
        """
        for p, before in self.fingerprints.items():
            try:
                now = _fingerprint(p)
            except FileNotFoundError:
                now = None
            if now != before:
                what = "was removed" if now is None else "changed (size or modification time)"
                raise ValueError(f"corpus: {p} {what} during training; restore it or start again "
                                 "(the last checkpoint, if any, is kept)")

    def blocks(self):
        """Yield lists of token lists, one list per block of about ``BLOCK_BYTES`` (empty lines dropped)."""
        split = _simple if self.tokenizer == "simple" else _whitespace
        for path in self.files:
            with open(path, "rb") as f:
                offset, rest = 0, b""
                while True:
                    data = f.read(BLOCK_BYTES)
                    last = data.rfind(b"\n") if data else len(rest)
                    if data and last < 0:
                        rest += data
                        continue
                    # Cut after the last newline: a newline byte never falls inside a UTF-8 character.
                    block, rest = (rest + data[:last + 1], data[last + 1:]) if data else (rest, b"")
                    if block:
                        try:
                            text = block.decode("utf-8")
                        except UnicodeDecodeError as exc:
                            raise ValueError(f"corpus: {path} is not UTF-8 text (invalid byte at offset "
                                             f"{offset + exc.start}); convert it, e.g. iconv -f latin1 -t utf-8") from None
                        offset += len(block)
                        docs = list(split_long(d for d in split(text) if d))
                        if docs:
                            yield docs
                    if not data:
                        break

    def __iter__(self):
        for docs in self.blocks():
            yield from docs

    def __repr__(self):
        return f"TextSource({self.name!r}, tokenizer={self.tokenizer!r})"


@dataclass
class TokenCache:
    """The corpus as int32 first-occurrence ids on disk, in pieces of whole documents.

    Attributes:
        path: the cache file (ids, then document lengths, per piece).
        pieces_index: per piece ``(byte offset, words, documents)``.
    """

    path: Path
    pieces_index: list = field(default_factory=list)

    def pieces(self, mapping: np.ndarray):
        """Yield ``(ids, doc, raw_words)`` per piece: ``mapping[first-occurrence id]`` of the known
        words (``mapping`` -1 = not in the vocabulary) and the index of their document in the piece."""
        with open(self.path, "rb") as f:
            for offset, words, docs in self.pieces_index:
                f.seek(offset)
                ids = mapping[np.fromfile(f, np.int32, words)]
                lengths = np.fromfile(f, np.int32, docs)
                doc_index = np.repeat(np.arange(docs, dtype=np.int32), lengths)
                known = ids >= 0
                yield ids[known], doc_index[known], words


def _check_doc(doc, number: int) -> None:
    if isinstance(doc, (str, bytes)) or not hasattr(doc, "__len__"):
        raise TypeError(
            f"corpus: each document must be a list of string tokens, got {type(doc).__name__} "
            f"{str(doc)[:40]!r} (document {number}); tokenise it, or pass a file path"
        )


def scan(corpus, cache_path, *, piece_words: int, max_vocab_size=None):
    """The vocabulary pass: count the words of ``corpus`` and write its token-id cache.

    Pieces are whole documents until at least ``piece_words`` words, as
    :mod:`zoo.word2vec.pipeline` cuts them (so the random draws per piece are the same
    whichever way the corpus arrives).

    Returns:
        ``(words, counts, total_words, documents, cache)``: the distinct words in order
        of first occurrence, their counts (gensim's pruned counts when ``max_vocab_size``
        is set, with its insertion order), raw words, documents and the :class:`TokenCache`.

    Raises:
        TypeError: a document that is not a list of string tokens.
    """
    index: dict = {}
    counts = np.zeros(0, np.int64)
    pruned: Counter | None = Counter() if max_vocab_size else None
    min_reduce = 1
    total = documents = 0
    cache = TokenCache(Path(cache_path))
    blocks = corpus.blocks() if isinstance(corpus, TextSource) else (split_long(corpus),)  # one document at a time
    pending_docs: list = []
    pending_words = 0
    lookup = index.__getitem__
    with files.naming_write_errors(cache.path), open(cache.path, "wb") as out:

        def write_piece(docs):
            nonlocal counts
            lengths = np.fromiter(map(len, docs), np.int64, len(docs))
            flat = list(itertools.chain.from_iterable(docs))
            # Words not seen before get the next ids in order of first occurrence (dict.fromkeys keeps it).
            new = [w for w in dict.fromkeys(flat) if w not in index]
            for word in new:
                if not isinstance(word, str):
                    raise TypeError(f"corpus: tokens must be strings, got {type(word).__name__} {word!r}")
            index.update(zip(new, range(len(index), len(index) + len(new))))
            ids = np.fromiter(map(lookup, flat), np.int32, len(flat))
            if pruned is None:
                counts = np.concatenate([counts, np.zeros(len(index) - len(counts), np.int64)])
                counts += np.bincount(ids, minlength=len(index))
            cache.pieces_index.append((out.tell(), len(ids), len(docs)))
            ids.tofile(out)
            lengths.astype(np.int32).tofile(out)
            return int(lengths.sum())

        for block in blocks:
            for doc in block:
                documents += 1
                _check_doc(doc, documents)
                pending_docs.append(doc)
                pending_words += len(doc)
                if pruned is not None:
                    # gensim.utils.prune_vocab after each document: drop words seen fewer than
                    # min_reduce times, then raise the bar.
                    pruned.update(doc)
                    if len(pruned) > max_vocab_size:
                        for word in [w for w, c in pruned.items() if c < min_reduce]:
                            del pruned[word]
                        min_reduce += 1
                if pending_words >= piece_words:
                    total += write_piece(pending_docs)
                    pending_docs, pending_words = [], 0
        if pending_docs:
            total += write_piece(pending_docs)
    if pruned is not None:
        words = list(pruned)
        counts = np.array([pruned[w] for w in words], np.int64)
    else:
        words = list(index)
    return words, counts, index, total, documents, cache


def open_corpus(corpus, *, tokenizer: str = "simple", data_path=None):
    """A corpus by name (``"reuters"``, ``"lee"``), path (file or folder) or restartable iterable.

    Raises:
        TypeError: a one-shot iterator (a generator), or not an iterable.
        ValueError, FileNotFoundError: an unknown name, a missing path, a folder without text files.
    """
    from .. import datasets

    check_tokenizer(tokenizer)
    if isinstance(corpus, (str, os.PathLike)):
        if str(corpus) in ("reuters", "lee"):
            return datasets.corpus(str(corpus), path=data_path)
        if os.sep in str(corpus) or Path(corpus).exists():
            return TextSource(corpus, tokenizer)
        return datasets.corpus(corpus, path=data_path)  # raises: names the allowed values
    if isinstance(corpus, (bytes, bytearray)) or not hasattr(corpus, "__iter__"):
        raise TypeError("corpus must be 'reuters', 'lee', a text file or folder path, or an iterable of token "
                        f"lists; got {type(corpus).__name__}")
    if iter(corpus) is corpus:
        raise TypeError(
            "corpus must be restartable (a list, or an iterable that can be iterated once per epoch such as "
            f"zoo.datasets.corpus(...)); got a one-shot {type(corpus).__name__}"
        )
    return corpus
