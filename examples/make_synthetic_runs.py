#!/usr/bin/env python3
"""examples/make_synthetic_runs.py: writes examples/synthetic-runs.csv, the small embedded data set
that `make demo` imports as run logs until the demo trains its own sweep.

The trajectories are SYNTHETIC: the loss of a run with N non-embedding parameters after D tokens
is drawn from the Chinchilla law L = E + A/N^alpha + B/D^beta with the parameters of Hoffmann et
al. 2022 (Approach 3: E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28), times a
log-normal noise factor (sigma = 0.5%). FLOPs use 6*N*D. Nothing here was trained.

Usage: python3 examples/make_synthetic_runs.py > examples/synthetic-runs.csv
"""
import math
import random

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
SIGMA = 0.005
SIZES = [2.0e7, 5.0e7, 1.2e8, 3.0e8, 7.0e8]  # non-embedding parameters
SHAPES = {2.0e7: (6, 512), 5.0e7: (8, 704), 1.2e8: (12, 896), 3.0e8: (16, 1216), 7.0e8: (20, 1664)}
BATCH_TOKENS = 2 ** 19
LOG_EVERY = 250

def main():
    rng = random.Random(20221)
    print("run,step,tokens,flops,loss_train,lr,config.n_params_nonembed,config.n_layer,"
          "config.d_model,config.context,config.vocab,config.flops_formula,config.data")
    for n in SIZES:
        layers, d = SHAPES[n]
        # Each model trains on 40 tokens per parameter (a bit past Chinchilla's 20), logged
        # every LOG_EVERY steps.
        steps = int(math.ceil(40 * n / BATCH_TOKENS))
        name = f"synth-N{n:.1e}".replace("+", "")
        for step in range(LOG_EVERY, steps + 1, LOG_EVERY):
            tokens = step * BATCH_TOKENS
            loss = E + A / n ** ALPHA + B / tokens ** BETA
            loss *= math.exp(rng.gauss(0.0, SIGMA))
            lr = 3e-4 * 0.5 * (1 + math.cos(math.pi * step / steps))
            print(f"{name},{step},{tokens},{6 * n * tokens:.17g},{loss:.17g},{lr:.17g},"
                  f"{int(n)},{layers},{d},2048,32000,6*N*D,synthetic chinchilla law")

main()
