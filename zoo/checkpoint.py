"""Checkpoints of an unfinished training run: written atomically, in a background thread."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import files, rundir

#: Inside the run directory while training is unfinished.
CHECKPOINT_DIR = rundir.CHECKPOINT_DIR


class Checkpoint:
    """Weights + optimizer state + history after each finished epoch, written atomically.

    ``state.json`` names the weights file it belongs to and is replaced only
    after that file is complete, so a kill at any moment leaves a consistent
    pair (the previous epoch's, or the new one's).

    :meth:`save` copies the variables (a consistent snapshot: training is
    between epochs) and leaves the writing to a background thread, so the next
    epoch trains while the bytes go to disk; the next :meth:`save` and
    :meth:`wait` first finish the previous write (and raise its error, if any).
    """

    def __init__(self, directory: Path, config: dict):
        self.dir = Path(directory)
        self.config = config
        self._writer = None  # the thread writing the last snapshot
        self._error = None  # what it raised, re-raised by wait()

    def restore(self, model) -> tuple[int, dict]:
        state_path = self.dir / "state.json"
        if not state_path.is_file():
            return 0, {}
        state = json.loads(state_path.read_text(encoding="utf-8"))
        changed = rundir.settings_changed(state["config"], self.config)
        if changed:  # epochs too: a resume must never finish as a run of other settings than it says
            raise rundir.SettingsChanged(
                f"out: {self.dir.parent} holds an unfinished run with other settings ({'; '.join(changed)}); "
                f"rerun with the checkpoint's values to resume it, pass --overwrite (overwrite=True) to start "
                f"over, or use another --out"
            )
        model.optimizer.build(model.trainable_variables)
        variables = self._variables(model)
        with np.load(self.dir / state["weights"], allow_pickle=False) as saved_arrays:
            arrays = [saved_arrays[f"arr_{i}"] for i in range(len(saved_arrays.files))]
        if [a.shape for a in arrays] != [tuple(v.shape) for v in variables]:
            raise ValueError(f"out: the checkpoint in {self.dir} does not fit this model; delete it to start anew")
        for var, value in zip(variables, arrays):
            var.assign(value)
        return int(state["epoch"]), {k: list(v) for k, v in state["history"].items()}

    @staticmethod
    def variables(model) -> list:
        """Weights, then optimizer state (step count, moments), in their fixed creation order."""
        return list(model.weights) + list(model.optimizer.variables)

    _variables = variables  # the name the tests used before it was public

    def save(self, model, epoch: int, hist: dict) -> None:
        """Snapshot the variables and ``hist`` now; write them in the background."""
        import threading

        self.wait()
        # Copies, taken while training is paused between epochs: the writer never sees later updates.
        arrays = [owned_copy(v.numpy()) for v in self._variables(model)]
        state = {"epoch": epoch, "weights": f"epoch-{epoch:04d}.npz",
                 "history": {k: list(v) for k, v in hist.items()}, "config": self.config}
        self._writer = threading.Thread(target=self._write, args=(arrays, state), name="zoo-checkpoint")
        self._writer.start()

    def wait(self) -> None:
        """Finish the checkpoint being written; raise the error it met, if any."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _write(self, arrays: list, state: dict) -> None:
        # A plain .npz of the variables: Keras's save_weights has a fixed cost per call that
        # dominates a small model's epoch (bench/README.md); this is the bytes only.
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            with files.atomic_path(self.dir / state["weights"]) as tmp, open(tmp, "wb") as f:
                np.savez(f, *arrays)
            previous = {p.name for p in self.dir.glob("epoch-*.npz")} - {state["weights"]}
            try:
                files.write_json(self.dir / "state.json", state)  # only now does the new pair count
            except BaseException:
                (self.dir / state["weights"]).unlink(missing_ok=True)  # unpublished: the previous pair stays alone
                raise
            for name in previous:
                (self.dir / name).unlink(missing_ok=True)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by wait()
            self._error = exc

    def clear(self) -> None:
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def owned_copy(value) -> np.ndarray:
    """``value`` as an array that shares no memory with a variable (TensorFlow's ``numpy()`` already copies)."""
    array = np.asarray(value)
    return array if array.flags.owndata else array.copy()
