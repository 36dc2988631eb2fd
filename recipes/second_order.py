"""A second-order step: Newton's method against gradient descent (2차 최적화).

Reproduces: the "Second Order" entry of the notes' list of optimizers. Gradient
descent moves along ``-g`` with one learning rate for every direction; Newton's
method uses the curvature too, ``w <- w - H^{-1} g`` (``H`` the Hessian). Shown
(1) on the book's elongated bowl ``f(x, y) = x^2 / 20 + y^2`` from (-7, 2): Newton's
step lands exactly on the minimum in one step, gradient descent at its best fixed
rate needs a hundred; (2) on a real problem that is not quadratic, L2-regularised
logistic regression on scikit-learn's breast-cancer data (569 samples, 30
standardised features): Newton reaches a gradient norm of 1e-10 in a handful of
iterations, its error squaring at each one (quadratic convergence), while gradient
descent with the safe step 1/L needs thousands; both end where scikit-learn's own
solver ends. In NumPy: the Hessian of logistic regression is ``X^T diag(p(1-p)) X / N
+ lambda I``, 31 x 31 here, so an exact Newton step is cheap; for a network with
millions of weights it is not, which is why the notes' other optimizers exist.
Source: notes 001 ("Optimizer": SGD, Momentum, RMSProp, Adagrad, Adam, Second
Order); Nocedal & Wright, *Numerical Optimization*, chapters 2-3 (Newton's method
and its quadratic convergence).
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "A second-order step: Newton's method against gradient descent (2차 최적화)"
ORDER = 8
SOURCE = "notes 001 (Optimizer: ... Second Order); Nocedal & Wright ch. 2-3"

# The book's bowl and start (as in the optimizers recipe).
START = np.array([-7.0, 2.0])
BOWL_HESSIAN = np.diag([1.0 / 10.0, 2.0])     # f = x^2/20 + y^2 = 1/2 w^T H w
BOWL_TOL = 1e-6                               # distance to the minimum that counts as "there"
# Logistic regression: mean log-loss + lambda/2 |w|^2 (bias not penalised, as in
# scikit-learn). The data are nearly separable; lambda 0.01 keeps a finite, well-
# defined minimum that gradient descent can reach within its budget.
LAMBDA = 1e-2
GRAD_TOL = 1e-10
GD_BUDGET = 20000


def bowl_gd_steps(rates, tol=BOWL_TOL, budget=10000):
    """For each rate, the steps of gradient descent until |w| < tol on the bowl (``budget + 1`` if never).

    All rates run side by side: on the bowl each coordinate is multiplied by
    ``1 - lr * curvature`` per step.
    """
    rates = np.asarray(rates, dtype=np.float64)
    w = np.tile(START, (len(rates), 1))
    factors = 1.0 - rates[:, None] * np.diag(BOWL_HESSIAN)[None, :]
    first = np.full(len(rates), budget + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, budget + 1):
            w = w * factors
            hit = (first > budget) & (np.linalg.norm(w, axis=1) < tol)
            first[hit] = t
            if np.all(first <= budget):
                break
    return first


def logistic(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


class LogReg:
    """Mean log-loss of a linear model with bias plus (lambda / 2) |w|^2 on ``(x, y)``, y in {0, 1}.

    Parameters ``theta = (w_1..w_d, b)``; ``X1`` is ``x`` with a column of ones.
    """

    def __init__(self, x, y, lam):
        self.X1 = np.hstack([x, np.ones((len(x), 1))])
        self.y, self.lam, self.n = y.astype(np.float64), lam, len(x)
        self.penalty = np.ones(self.X1.shape[1])
        self.penalty[-1] = 0.0  # no penalty on the bias

    def loss(self, theta):
        z = self.X1 @ theta
        # log(1 + exp(z)) - y z, written stably
        return float(np.mean(np.logaddexp(0.0, z) - self.y * z) + 0.5 * self.lam * np.sum(self.penalty * theta**2))

    def grad(self, theta):
        p = logistic(self.X1 @ theta)
        return self.X1.T @ (p - self.y) / self.n + self.lam * self.penalty * theta

    def hessian(self, theta):
        p = logistic(self.X1 @ theta)
        return (self.X1.T * (p * (1 - p))) @ self.X1 / self.n + self.lam * np.diag(self.penalty)

    def lipschitz(self):
        """L = largest eigenvalue of X^T X / (4N) + lambda: bounds the Hessian, so 1/L is a safe GD step."""
        return float(np.linalg.eigvalsh(self.X1.T @ self.X1 / (4 * self.n)).max()) + self.lam


def newton(problem, theta0, tol=GRAD_TOL, max_iter=50):
    """Pure Newton iterations ``theta <- theta - H^{-1} g`` until |g| < tol; returns (theta, gradient norms)."""
    theta, norms = theta0.copy(), []
    for _ in range(max_iter):
        g = problem.grad(theta)
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < tol:
            break
        theta = theta - np.linalg.solve(problem.hessian(theta), g)
    return theta, norms


def gradient_descent(problem, theta0, lr, tol=GRAD_TOL, budget=GD_BUDGET):
    """Gradient descent at fixed rate ``lr`` until |g| < tol or ``budget`` steps; returns (theta, gradient norms)."""
    theta, norms = theta0.copy(), []
    for _ in range(budget + 1):
        g = problem.grad(theta)
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < tol:
            break
        theta = theta - lr * g
    return theta, norms


def run(out_dir, quick=True):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    r = Recipe("second_order", out_dir, title=TITLE, source=SOURCE, quick=quick)

    # -----------------------------------------------------------------------
    # Step 1. The quadratic bowl. Its Hessian is constant, diag(1/10, 2), so the
    # Newton step -H^{-1} g = -w jumps to the minimum from anywhere. Gradient
    # descent's best fixed rate balances the two directions, 2 / (1/10 + 2), and
    # still needs about K/2 ln(|w0| / tol) steps, K = 20 the condition number.
    # -----------------------------------------------------------------------
    g0 = BOWL_HESSIAN @ START
    newton_1 = START - np.linalg.solve(BOWL_HESSIAN, g0)
    r.check_close("bowl: one Newton step from (-7, 2) lands on the minimum (0, 0)", newton_1, [0.0, 0.0], atol=1e-12)
    rates = np.linspace(0.01, 0.99, 99)
    steps = bowl_gd_steps(rates)
    best = int(np.argmin(steps))
    best_lr, best_steps = float(rates[best]), int(steps[best])
    r.check_at_least(f"bowl: gradient descent's steps to |w| < {BOWL_TOL:g} at its best fixed rate "
                     f"({best_lr:.3g}, of {len(rates)} tried)", best_steps, 100)
    optimal = 2.0 / (0.1 + 2.0)
    r.check_close("bowl: the best fixed rate is 2 / (lambda_min + lambda_max) = 0.952 (grid spacing)",
                  best_lr, optimal, atol=rates[1] - rates[0])

    # -----------------------------------------------------------------------
    # Step 2. Logistic regression on the breast-cancer data (standardised). The
    # loss is convex but not quadratic: Newton takes several steps, but each one
    # roughly squares the error once it is close (quadratic convergence), while
    # gradient descent at 1/L shrinks it by a constant factor per step.
    # -----------------------------------------------------------------------
    data = load_breast_cancer()
    x = StandardScaler().fit_transform(data.data)
    problem = LogReg(x, data.target, LAMBDA)
    theta0 = np.zeros(x.shape[1] + 1)
    theta_n, newton_norms = newton(problem, theta0)
    big_l = problem.lipschitz()
    theta_g, gd_norms = gradient_descent(problem, theta0, 1.0 / big_l)
    newton_iters = len(newton_norms) - 1
    gd_iters = len(gd_norms) - 1
    gd_reached = gd_norms[-1] < GRAD_TOL
    r.check_at_most(f"logistic regression: Newton iterations to |gradient| < {GRAD_TOL:g}", newton_iters, 10)
    r.check(f"gradient descent (rate 1/L = {1 / big_l:.3g}) needs >= 100x Newton's iterations to the same tolerance",
            gd_iters >= 100 * newton_iters,
            expected=f">= {100 * newton_iters} iterations",
            measured=f"{gd_iters} iterations" + ("" if gd_reached else f" (budget spent; |gradient| still "
                                                                      f"{gd_norms[-1]:.2g})"))
    # Quadratic convergence: near the minimum |g_k+1| ~ C |g_k|^2. The order
    # estimate q_k = log(|g_k+1| / |g_k|) / log(|g_k| / |g_k-1|) is about 2 for
    # Newton once |g| < 1e-3 (and above round-off), 1 for any linear method.
    n = newton_norms
    orders = [float(np.log(c / b) / np.log(b / a)) for a, b, c in zip(n, n[1:], n[2:]) if b < 1e-3 and c > 1e-14]
    r.check_at_least("Newton converges quadratically: smallest order estimate log(g_k+1/g_k) / log(g_k/g_k-1) "
                     "once |g| < 1e-3", min(orders) if orders else 0.0, 1.8)
    gd_factor = float(np.exp(np.mean(np.diff(np.log(gd_norms[len(gd_norms) // 2:])))))
    r.check_at_least("gradient descent converges linearly: mean factor |g_k+1| / |g_k| over its second half",
                     gd_factor, 0.99)
    # Both end where scikit-learn ends: its objective C * sum log-loss + 1/2 |w|^2
    # has the same minimiser as ours when C = 1 / (N lambda).
    sk = LogisticRegression(C=1.0 / (len(x) * LAMBDA), tol=1e-12, max_iter=10000).fit(x, data.target)
    theta_sk = np.concatenate([sk.coef_[0], sk.intercept_])
    r.check_close("Newton's solution == scikit-learn LogisticRegression's (max |coefficient difference|)",
                  float(np.max(np.abs(theta_n - theta_sk))), 0.0, atol=1e-5)
    r.table(f"L2 logistic regression (lambda {LAMBDA:g}) on breast cancer, {x.shape[0]} x {x.shape[1]} standardised",
            ["method", "iterations", "final |gradient|", "final loss", "cost of one iteration"],
            [["Newton (exact Hessian, 31 x 31 solve)", newton_iters, newton_norms[-1], problem.loss(theta_n),
              "gradient + Hessian O(N d^2) + solve O(d^3)"],
             [f"gradient descent, rate 1/L = {1 / big_l:.3g}", gd_iters if gd_reached else f"> {gd_iters}",
              gd_norms[-1], problem.loss(theta_g), "gradient O(N d)"],
             ["scikit-learn LogisticRegression (lbfgs)", int(sk.n_iter_[0]), float(np.linalg.norm(problem.grad(theta_sk))),
              problem.loss(theta_sk), "-"]])
    r.table("Newton's gradient norm per iteration", ["iteration", "|gradient|"],
            [[i, v] for i, v in enumerate(newton_norms)])
    r.note(f"Newton needs {newton_iters} iterations and gradient descent {gd_iters if gd_reached else f'more than {gd_iters}'}"
           f" to |gradient| < {GRAD_TOL:g}. The Hessian here has d = {x.shape[1] + 1} rows; a network with n weights "
           "has an n x n Hessian (10^12 entries for a million weights), which is why deep learning uses first-order "
           "optimizers and approximations of the curvature (AdaGrad, RMSprop and Adam's per-weight scaling is a "
           "diagonal stand-in for it).")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    xs, ys = np.meshgrid(np.linspace(-8, 2, 200), np.linspace(-2.5, 2.5, 100))
    ax1.contour(xs, ys, xs**2 / 20 + ys**2, levels=np.geomspace(0.01, 10, 10), colors="0.7", linewidths=0.8)
    w, gd_path = START.copy(), [START.copy()]
    for _ in range(best_steps):
        w = w - best_lr * (BOWL_HESSIAN @ w)
        gd_path.append(w.copy())
    gd_path = np.array(gd_path)
    ax1.plot(gd_path[:, 0], gd_path[:, 1], "o-", ms=2, lw=0.8, color="tab:blue",
             label=f"gradient descent, rate {best_lr:.3g}: {best_steps} steps")
    ax1.plot([START[0], newton_1[0]], [START[1], newton_1[1]], "s-", color="tab:red", lw=2, label="Newton: 1 step")
    ax1.set(xlabel="x", ylabel="y", title="f = x²/20 + y² from (-7, 2)")
    ax1.legend(fontsize=8, loc="lower right")
    ax2.semilogy(newton_norms, "s-", color="tab:red", label="Newton")
    ax2.semilogy(gd_norms, color="tab:blue", label="gradient descent, rate 1/L")
    ax2.axhline(GRAD_TOL, color="0.5", ls=":", lw=1)
    ax2.set(xscale="symlog", xlim=(0, 1.5 * len(gd_norms)), xlabel="iteration (log scale after 1)", ylabel="|gradient|",
            title="logistic regression on breast cancer")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=8)
    fig.suptitle("Second order: Newton's step uses the curvature")
    fig.tight_layout()
    r.figure(fig, "newton_vs_gd.png")
    plt.close(fig)
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
