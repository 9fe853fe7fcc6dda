#!/usr/bin/env python3
"""examples/make_xiong_context.py: writes examples/xiong-context.csv, the small embedded input of
figure S4 (loss against evaluation context, one curve per model size, with the fit
L(T) = (alpha/T)^beta + gamma of Xiong et al. 2023).

The losses are SYNTHETIC: the joint law L = E + A/N^a + B/D^b + G/T^g (docs/laws.md, `ndt`) at
a fixed token count D, which per model size is exactly the xiong-context law with
alpha = G^(1/g), beta = g and gamma = E + A/N^a + B/D^b; times a log-normal noise factor
(sigma = 0.3%). Nothing here was trained or evaluated. With the seed fixed the file is the same
on every run.

Usage: python3 examples/make_xiong_context.py > examples/xiong-context.csv
"""
import math
import random

E, A, B, G = 1.69, 406.4, 410.7, 5.0
ALPHA_N, BETA_D, GAMMA_T = 0.34, 0.28, 0.4
D = 2.0e10  # training tokens of every model
SIGMA = 0.003
SIZES = [1.5e8, 4.0e8, 1.0e9, 3.0e9]  # non-embedding parameters
CONTEXTS = [2 ** k for k in range(6, 16)]  # evaluation contexts 64 .. 32768 tokens


def main():
    rng = random.Random(2023)
    print("size,context,loss")
    for n in SIZES:
        for t in CONTEXTS:
            loss = E + A / n ** ALPHA_N + B / D ** BETA_D + G / t ** GAMMA_T
            loss *= math.exp(rng.gauss(0.0, SIGMA))
            print(f"{n:.6g},{t},{loss:.6f}")


main()
