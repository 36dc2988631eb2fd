"""Classification scores beyond accuracy, from a model's predictions, and the one table of objectives.

Accuracy alone hides what a classifier does to its small classes: on Reuters,
a model that never predicts 30 of the 46 topics can still reach 80% accuracy.
This module adds, computed with scikit-learn from the true labels and the
predicted class scores:

* **macro-F1** -- the F1 score of each class, averaged with equal weight per class
  (``f1_score(average="macro")``), so rare topics count as much as ``earn``;
* **top-k accuracy** -- the true class is among the k highest scores
  (``top_k_accuracy_score``; k = :data:`TOP_K`), defined where there are more than k classes;
* a **per-class table** (precision, recall, F1, support) and the **confusion matrix**,
  with a figure of it.

:data:`DIRECTIONS` says, in one place, whether a larger or a smaller value of each
metric is better; a search ranks its trials by it (``val_`` = on the held-out
fold). Importing this module does not start TensorFlow or scikit-learn, so the
command lines check an ``--objective`` at once.

Example:
    >>> import numpy as np
    >>> scores = classification_scores(np.array([0, 1, 2, 2]), np.eye(3)[[0, 1, 2, 1]])
    >>> round(scores["macro_f1"], 4)
    0.7778
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The k of top-k accuracy: top-5 is the usual one for many classes (Reuters' 46 topics).
TOP_K = 5


def top_k_name(k: int = TOP_K) -> str:
    """The metric name of top-``k`` accuracy, e.g. ``"top5_accuracy"`` (k is part of the name)."""
    return f"top{int(k)}_accuracy"


#: Whether a larger ("max") or smaller ("min") value of a metric is better; ``val_`` names follow their metric.
DIRECTIONS = {"loss": "min", "accuracy": "max", "macro_f1": "max", top_k_name(): "max"}
#: The metrics computed from predictions (the others are the model's compiled ones).
PREDICTION_METRICS = ("macro_f1", top_k_name())
#: What a cross-validated search of a zoo classifier can rank by: its compiled metrics on
#: the training part, and every metric on the held-out fold (``val_``).
OBJECTIVES = ("loss", "accuracy", *(f"val_{m}" for m in DIRECTIONS))


def direction(name: str) -> str | None:
    """``"max"`` or ``"min"`` for a metric or objective name in :data:`DIRECTIONS` (``val_`` or not), else None.

    Example:
        >>> direction("val_macro_f1"), direction("val_loss"), direction("val_auc")
        ('max', 'min', None)
    """
    return DIRECTIONS.get(name[4:] if name.startswith("val_") else name)


def objectives(num_classes: int | None = None) -> list[str]:
    """The objectives of a zoo classifier with ``num_classes`` classes (top-k only above k classes)."""
    top = f"val_{top_k_name()}"
    return [o for o in OBJECTIVES if o != top or num_classes is None or num_classes > TOP_K]


def check_objective(name, num_classes: int | None = None, *, allowed=None) -> str:
    """Return ``name`` if a zoo classifier's search can rank by it; else raise, naming what is allowed.

    Args:
        name: an objective name such as ``"val_macro_f1"``.
        num_classes: the model's classes, when known (top-k needs more than k).
        allowed: the names to accept (default: :func:`objectives`).

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is not an objective, or top-k accuracy of a model with k classes or fewer.
    """
    if not isinstance(name, str):
        raise TypeError(f"objective must be a metric name such as 'val_accuracy', got {name!r}")
    allowed = list(allowed) if allowed is not None else objectives(num_classes)
    top = f"val_{top_k_name()}"
    if name == top and top not in allowed and num_classes is not None and num_classes <= TOP_K:
        raise ValueError(f"objective {name!r} needs more than {TOP_K} classes; the model has {num_classes} "
                         f"(every class is in the top {TOP_K}); use one of {', '.join(allowed)}")
    if name not in allowed:
        raise ValueError(f"objective {name!r} is not reported by the model; it reports: {', '.join(allowed)} "
                         "(val_ = on the held-out folds)")
    return name


def _check_predictions(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype="float64")
    if y_score.ndim != 2 or y_score.shape[1] < 2:
        raise ValueError(f"y_score must have shape (n, classes) with at least 2 classes, got {y_score.shape}")
    if y_true.shape != (len(y_score),) or not np.issubdtype(y_true.dtype, np.integer):
        raise ValueError(f"y_true must be {len(y_score)} integer class labels, got shape {y_true.shape}, "
                         f"dtype {y_true.dtype}")
    if len(y_true) == 0 or y_true.min() < 0 or y_true.max() >= y_score.shape[1]:
        raise ValueError(f"y_true must hold labels in [0, {y_score.shape[1]}), got "
                         f"{'none' if len(y_true) == 0 else f'[{y_true.min()}, {y_true.max()}]'}")
    return y_true, y_score


def classification_scores(y_true, y_score, *, k: int = TOP_K) -> dict[str, float]:
    """Macro-F1 and (above ``k`` classes) top-``k`` accuracy of class scores ``y_score`` against ``y_true``.

    Macro-F1 averages over the classes that occur in ``y_true`` or in the
    predictions (scikit-learn's default): a class absent from a fold and never
    predicted there says nothing about the model. A class that occurs but is
    never predicted, or predicted but never true, has F1 = 0.

    Args:
        y_true: integer labels, shape ``(n,)``.
        y_score: class scores (probabilities or logits: only their order counts), shape ``(n, classes)``.
        k: the k of top-k accuracy.

    Returns:
        ``{"macro_f1": ..., "top<k>_accuracy": ...}`` (the latter only when ``classes > k``).

    Raises:
        ValueError: shapes that do not match, labels out of range.

    Example:
        >>> y = np.array([0, 1, 2, 3, 4, 5])
        >>> p = np.tile(np.arange(6.0), (6, 1))           # class 5 first, then 4, 3, ...
        >>> classification_scores(y, p)["top5_accuracy"]  # all but class 0 are in the top 5
        0.8333333333333334
    """
    from sklearn.metrics import f1_score, top_k_accuracy_score

    y_true, y_score = _check_predictions(y_true, y_score)
    classes = y_score.shape[1]
    out = {"macro_f1": float(f1_score(y_true, y_score.argmax(axis=1), average="macro", zero_division=0))}
    if classes > k:
        out[top_k_name(k)] = float(top_k_accuracy_score(y_true, y_score, k=k, labels=np.arange(classes)))
    return out


@dataclass
class ClassificationReport:
    """Everything a classifier's predictions on a test set say: scores, a per-class table, the confusion matrix.

    Attributes:
        scores: ``accuracy``, ``macro_f1`` and (above :data:`TOP_K` classes) top-k accuracy.
        per_class: one row per class: ``class`` (index), ``name``, ``precision``, ``recall``, ``f1``,
            ``support`` (true examples) and ``predicted`` (examples predicted as the class).
        confusion: ``confusion[i, j]`` = examples of class ``i`` predicted as ``j``.
        class_names: one name per class.
    """

    scores: dict
    per_class: list[dict]
    confusion: np.ndarray
    class_names: list[str] = field(default_factory=list)

    @classmethod
    def from_predictions(cls, y_true, y_score, *, class_names=None, k: int = TOP_K) -> "ClassificationReport":
        """The report of class scores ``y_score`` (shape ``(n, classes)``) against labels ``y_true``.

        Raises:
            ValueError: shapes that do not match, labels out of range, a wrong number of class names.
        """
        from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

        y_true, y_score = _check_predictions(y_true, y_score)
        classes = y_score.shape[1]
        names = [str(i) for i in range(classes)] if class_names is None else [str(n) for n in class_names]
        if len(names) != classes:
            raise ValueError(f"class_names: {len(names)} names for {classes} classes")
        y_pred = y_score.argmax(axis=1)
        labels = np.arange(classes)
        precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                                         zero_division=0)
        predicted = np.bincount(y_pred, minlength=classes)
        rows = [{"class": int(i), "name": names[i], "precision": float(precision[i]), "recall": float(recall[i]),
                 "f1": float(f1[i]), "support": int(support[i]), "predicted": int(predicted[i])} for i in labels]
        scores = {"accuracy": float(accuracy_score(y_true, y_pred)), **classification_scores(y_true, y_score, k=k)}
        return cls(scores, rows, confusion_matrix(y_true, y_pred, labels=labels), names)

    def table(self) -> str:
        """The per-class table as text (:func:`format_per_class`)."""
        return format_per_class(self.per_class)

    def to_dict(self) -> dict:
        return {"scores": self.scores, "per_class": self.per_class, "confusion": self.confusion.tolist(),
                "class_names": self.class_names}

    def plot_confusion(self, path, *, title: str = ""):
        """The confusion matrix as a figure, each row scaled to the class's recall, written atomically.

        Rows are true classes, columns predicted ones; colour is the fraction of the
        row (so a rare class shows as clearly as a frequent one), and with up to 20
        classes each cell also shows its count.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from . import files

        cm = self.confusion
        n = len(cm)
        rows = cm.sum(axis=1, keepdims=True)
        share = np.divide(cm, rows, out=np.zeros(cm.shape, dtype="float64"), where=rows > 0)
        side = min(18.0, max(4.5, 0.32 * n + 2.5))
        fig, ax = plt.subplots(figsize=(side + 1.2, side))
        image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
        ticks = np.arange(n)
        ax.set_xticks(ticks, self.class_names, rotation=90, fontsize=8 if n > 20 else 10)
        ax.set_yticks(ticks, self.class_names, fontsize=8 if n > 20 else 10)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        if n <= 20:
            for i in range(n):
                for j in range(n):
                    if cm[i, j]:
                        ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                                color="white" if share[i, j] > 0.5 else "black")
        ax.set_title(title or f"confusion matrix ({int(cm.sum())} examples)")
        return files.save_figure(fig, path, dpi=110)


def format_per_class(rows: list[dict]) -> str:
    """Per-class rows (:attr:`ClassificationReport.per_class`) as a text table, the macro average last.

    The macro average is over the classes that are true or predicted at least once,
    as ``macro_f1`` (:func:`classification_scores`) is.
    """
    from .rundir import printable

    rows = [{**r, "name": printable(r["name"])} for r in rows]  # names from a data file reach the terminal
    width = max(5, *(len(r["name"]) for r in rows))
    head = (f"{'class':>5}  {'name':<{width}}  {'precision':>9}  {'recall':>6}  {'f1':>6}  {'support':>7}  "
            f"{'predicted':>9}")
    body = [f"{r['class']:>5}  {r['name']:<{width}}  {r['precision']:>9.3f}  {r['recall']:>6.3f}  "
            f"{r['f1']:>6.3f}  {r['support']:>7}  {r['predicted']:>9}" for r in rows]
    seen = [r for r in rows if r["support"] or r["predicted"]]
    mean = {k: float(np.mean([r[k] for r in seen])) if seen else float("nan") for k in ("precision", "recall", "f1")}
    foot = (f"{'':>5}  {'macro avg':<{width}}  {mean['precision']:>9.3f}  {mean['recall']:>6.3f}  "
            f"{mean['f1']:>6.3f}  {sum(r['support'] for r in rows):>7}  {sum(r['predicted'] for r in rows):>9}")
    return "\n".join([head, *body, foot])
