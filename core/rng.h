/* core/rng.h: seeded pseudo-random numbers with reproducible, independent streams.
 *
 * The generator is xoshiro256** (Blackman and Vigna), its 256-bit state filled by splitmix64 from
 * (seed, stream). The whole state is the small plain struct cs_rng: copying it (memcpy, a
 * checkpoint written byte for byte, a struct passed to a CUDA kernel) copies the generator, and
 * the copy goes on with exactly the same numbers. Each draw is a handful of shifts, xors and one
 * multiply, cheap enough to call per element in kernels; a CUDA twin only needs the same few
 * lines of integer code.
 *
 * Why not GSL's gsl_rng: its state hides behind a pointer to a type-specific heap block, so it
 * cannot be saved into a checkpoint or handed to a GPU as plain bytes, and its streams are not
 * keyed by an id. (GSL stays the tool for the fits.)
 *
 * Streams: cs_rng_seed(&r, seed, k) for k = 0, 1, 2, ... gives generators whose sequences do not
 * overlap in practice (distinct 256-bit starting points in a period of 2^256 - 1), e.g. one per
 * data-parallel rank, per data loader, per parameter tensor. Stream 0 is the reference seeding of
 * xoshiro256** from splitmix64(seed).
 *
 * Not thread-safe per object: give each thread its own cs_rng (its own stream).
 * Tested in tests/unit/test_rng.c.
 */
#ifndef CS_CORE_RNG_H
#define CS_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The generator state: 48 bytes, no padding, no pointers. The byte image is in host byte order
 * (little-endian on every machine ctxscale targets). */
typedef struct cs_rng {
    uint64_t s[4];      /* xoshiro256** state; never all zero */
    double spare;       /* second normal deviate of the last Box-Muller pair */
    uint64_t has_spare; /* 1 when `spare` is waiting to be returned, else 0 */
} cs_rng;

/* Seeds `r` for stream `stream` of `seed`: the four state words are the first four outputs of
 * splitmix64 started at seed ^ mix(stream), where mix is splitmix64's output function (a
 * bijection with mix(0) = 0). Any (seed, stream) is valid. */
void cs_rng_seed(cs_rng *r, uint64_t seed, uint64_t stream);

/* One step of splitmix64 on *x: adds 0x9e3779b97f4a7c15 to *x and returns the mixed value. Exposed
 * for hashing ids into seeds and for tests against the published reference. */
uint64_t cs_rng_splitmix64(uint64_t *x);

/* The next 64 random bits (one xoshiro256** step). */
uint64_t cs_rng_u64(cs_rng *r);

/* A double uniform in [0, 1): the top 53 bits of one draw times 2^-53. */
double cs_rng_uniform(cs_rng *r);

/* A float uniform in [0, 1): the top 24 bits of one draw times 2^-24. */
float cs_rng_uniformf(cs_rng *r);

/* An integer uniform in [0, n), without bias (Lemire's multiply-and-reject; usually one draw).
 * n must be > 0 (CS_ASSERT). */
uint64_t cs_rng_below(cs_rng *r, uint64_t n);

/* A standard normal deviate (mean 0, variance 1) by the Box-Muller transform: each pair costs two
 * draws; the second value is kept in r->spare and returned by the next call. */
double cs_rng_normal(cs_rng *r);

/* Shuffles a[0..n) in place, every permutation equally likely (Fisher-Yates with cs_rng_below). */
void cs_rng_shuffle(cs_rng *r, size_t *a, size_t n);

/* Fills x[0..n) with floats uniform in [lo, hi) (lo + (hi - lo) * u, nudged below hi if rounding
 * reaches it); lo == hi fills with lo. Requires lo <= hi, both finite (CS_ASSERT). */
void cs_rng_fill_uniform(cs_rng *r, float *x, size_t n, float lo, float hi);

/* Fills x[0..n) with floats mean + std * cs_rng_normal(r) (e.g. weight initialisation). */
void cs_rng_fill_normal(cs_rng *r, float *x, size_t n, float mean, float std);

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_RNG_H */
