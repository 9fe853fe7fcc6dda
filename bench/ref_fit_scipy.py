#!/usr/bin/python3
"""bench/ref_fit_scipy.py: the reference for bench/bench_fit.c -- the same fit in Python with
scipy: Hoffmann et al.'s objective (Huber, delta 1e-3, of log-sum-exp predicted log loss minus
log loss, summed), analytic gradient, scipy.optimize.minimize(method="L-BFGS-B") from each of the
4,500 points of Hoffmann's grid, then bootstrap refits from the optimum on resampled points
(numpy's generator, seeded). Epoch's 240 points (the 5 largest losses dropped). Uses Debian's
python3-scipy; exits 77 (skipped) when scipy or the data are absent.

Tolerances: the same as ctxscale's (ftol 1e-10 relative to f, gradient 1e-10). L-BFGS-B's
defaults are absolute in effect here (its ftol divides by max(|f|, 1), and f is about 1e-3): the
grid fit still lands within 1e-5 of the optimum, but the bootstrap refits, which start at the
optimum of the full data, stop after an iteration or two, and their standard errors come out
about 30 times too small (--scipy-defaults shows it).

Run: /usr/bin/python3 bench/ref_fit_scipy.py [--data FILE] [--boot N] [--starts-every K]
--boot N times N refits and scales the time to 1,000 linearly (say so in the results);
--starts-every K runs every K-th start only and scales the grid time by K likewise.
"""
import argparse
import csv
import itertools
import os
import sys
import time

try:
    import numpy as np
    from scipy.optimize import minimize
except ImportError:
    print("ref_fit_scipy: numpy/scipy not installed (Debian: python3-scipy): skipped",
          file=sys.stderr)
    sys.exit(77)

DELTA = 1e-3
REL = "data/external/epoch-analyzing-chinchilla/svg_extracted_data.csv"


def find_data(given):
    if given:
        return given if os.path.exists(given) else None
    for root in ("../shared", "/work/shared"):
        path = os.path.join(root, REL)
        if os.path.exists(path):
            return path
    return None


def load(path):
    """log N, log D, log L of the rows left after dropping the 5 largest losses."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    n = np.array([float(r["Model Size"]) for r in rows])
    c = np.array([float(r["Training FLOP"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    # Largest first, earlier rows first among equal values (as ctxscale's --drop-top).
    order = sorted(range(len(loss)), key=lambda i: (-loss[i], i))
    keep = np.sort(np.array(order[5:]))
    d = c / (6.0 * n)
    return np.log(n[keep]), np.log(d[keep]), np.log(loss[keep])


def make_objective(ln, ld, ll):
    def objective(p, w=None):
        e, a, alpha, b, beta = p
        t1 = a - alpha * ln
        t2 = b - beta * ld
        m = np.maximum(np.maximum(t1, t2), e)
        x0 = np.exp(e - m)
        x1 = np.exp(t1 - m)
        x2 = np.exp(t2 - m)
        s = x0 + x1 + x2
        r = m + np.log(s) - ll
        ar = np.abs(r)
        f = np.where(ar <= DELTA, 0.5 * r * r, DELTA * (ar - 0.5 * DELTA))
        psi = np.clip(r, -DELTA, DELTA)
        if w is not None:
            f = f * w
            psi = psi * w
        q1 = psi * x1 / s
        q2 = psi * x2 / s
        grad = np.array([np.sum(psi * x0 / s), np.sum(q1), -np.sum(q1 * ln), np.sum(q2),
                         -np.sum(q2 * ld)])
        return f.sum(), grad
    return objective


def grid():
    """Hoffmann's grid, in ctxscale's parameter order (e, a, alpha, b, beta)."""
    alphas = np.linspace(0, 2, 5)
    es = np.linspace(-1, 1, 5)
    abs_ = np.linspace(0, 25, 6)
    for alpha, beta, e, a, b in itertools.product(alphas, alphas, es, abs_, abs_):
        yield np.array([e, a, alpha, b, beta])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--starts-every", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scipy-defaults", action="store_true")
    args = ap.parse_args()
    # ftol is relative to max(|f|, 1) and f ~ 1e-3: 1e-13 is 1e-10 relative to f.
    opts = {} if args.scipy_defaults else {"ftol": 1e-13, "gtol": 1e-10, "maxiter": 2000,
                                           "maxfun": 20000}
    path = find_data(args.data)
    if path is None:
        print("ref_fit_scipy: Epoch's svg_extracted_data.csv not found: skipped", file=sys.stderr)
        sys.exit(77)
    ln, ld, ll = load(path)
    obj = make_objective(ln, ld, ll)
    print(f"data: {path}, {len(ll)} points; scipy {__import__('scipy').__version__}")

    starts = list(grid())[::args.starts_every]
    t0 = time.perf_counter()
    best = None
    for x0 in starts:
        res = minimize(obj, x0, jac=True, method="L-BFGS-B", options=opts)
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    t_grid = (time.perf_counter() - t0) * args.starts_every
    print(f"grid fit: {len(starts)} starts, {t_grid:.3f} s"
          + (f" (scaled x{args.starts_every})" if args.starts_every > 1 else ""))
    print("optimum: objective %.12g e %.10g a %.10g alpha %.10g b %.10g beta %.10g"
          % ((best.fun,) + tuple(best.x)))

    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    samples = []
    for _ in range(args.boot):
        w = np.bincount(rng.integers(0, len(ll), len(ll)), minlength=len(ll)).astype(float)
        res = minimize(lambda p: obj(p, w), best.x, jac=True, method="L-BFGS-B", options=opts)
        samples.append(res.x)
    t_boot = time.perf_counter() - t0
    scale = 1000.0 / args.boot if args.boot else 0.0
    samples = np.array(samples)
    if args.boot:
        print(f"bootstrap: {args.boot} refits in {t_boot:.3f} s; scaled to 1000: "
              f"{t_boot * scale:.3f} s; se(alpha) {samples[:, 2].std(ddof=1):.4g} "
              f"se(beta) {samples[:, 4].std(ddof=1):.4g}")
    print(f"total (1000 refits): {t_grid + t_boot * scale:.3f} s")


if __name__ == "__main__":
    main()
