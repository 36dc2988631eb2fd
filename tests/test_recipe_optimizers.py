"""The NumPy pieces of the optimizers and second_order recipes, without running them whole."""

import numpy as np
import pytest

from recipes import optimizers as opt
from recipes import second_order as so


def test_double_well_critical_points():
    x_global, x_barrier, x_local = opt.WELL_CRITICAL
    assert np.allclose(opt.well_grad(opt.WELL_CRITICAL), 0.0, atol=1e-12)
    assert x_global < x_barrier < x_local
    assert opt.well(x_global) < opt.well(x_local) < opt.well(x_barrier)


def test_momentum_crosses_the_barrier_sgd_does_not():
    x_global, _, x_local = opt.WELL_CRITICAL
    assert opt.well_path(0.0, opt.WELL_START)[-1] == pytest.approx(x_local, abs=1e-6)
    assert opt.well_path(opt.WELL_MOMENTUM, opt.WELL_START)[-1] == pytest.approx(x_global, abs=1e-6)


def test_adagrad_rate_decays_rmsprop_does_not():
    ada_path, ada_rates = opt.effective_rates(opt.AdaGrad(opt.ADA_RATE, eps=opt.ADA_EPS))
    rms_path, rms_rates = opt.effective_rates(opt.RMSprop(opt.ADA_RATE, eps=opt.ADA_EPS))
    assert np.all(ada_rates[0] / ada_rates[-1] >= 10)
    assert np.all(rms_rates[-1] >= rms_rates[0])
    assert np.linalg.norm(ada_path[-1]) > 0.5 * np.linalg.norm(opt.START)
    assert np.linalg.norm(rms_path[-1]) < 2 * opt.ADA_RATE


@pytest.mark.parametrize("kind, kw", [(v[0].split("(")[0], v[1]) for v in opt.NOTES_CALLS.values()])
def test_alternative_formula_is_told_apart(kind, kw):
    """The check 'Keras == formula' is sharp: the nearby alternative differs by far more than its tolerance."""
    a = opt.numpy_path(opt.notes_formula(kind, kw), steps=opt.NOTES_STEPS)
    b = opt.numpy_path(opt.notes_formula(kind, kw, alternative=True), steps=opt.NOTES_STEPS)
    assert np.max(np.abs(a - b)) > 100 * opt.FORMULA_ATOL
    assert np.linalg.norm(a[-1] - a[0]) > 0


def test_sgd_best_rate_on_elongated_bowl_is_far_behind_momentum():
    sgd, mom = opt.best_rate("SGD", 200), opt.best_rate("Momentum", 200)
    assert sgd[0] / mom[0] >= 100
    assert sgd[1] < 1.0  # capped by the steep direction


def test_newton_one_step_on_the_bowl_and_quadratic_convergence():
    w1 = so.START - np.linalg.solve(so.BOWL_HESSIAN, so.BOWL_HESSIAN @ so.START)
    assert np.allclose(w1, 0.0, atol=1e-12)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=200) > 0).astype(float)
    problem = so.LogReg(x, y, 1e-2)
    theta, norms = so.newton(problem, np.zeros(4))
    assert norms[-1] < so.GRAD_TOL and len(norms) <= 10
    # the gradient of the objective is zero at Newton's answer; a numerical check of grad()
    e = np.eye(4) * 1e-6
    numeric = np.array([(problem.loss(theta + d) - problem.loss(theta - d)) / 2e-6 for d in e])
    assert np.max(np.abs(numeric)) < 1e-8
