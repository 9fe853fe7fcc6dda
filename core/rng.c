/* core/rng.c: xoshiro256** seeded by splitmix64, and the draws built on it (core/rng.h).
 * Test: tests/unit/test_rng.c. */
#include "core/rng.h"

#include "core/error.h"

#include <math.h>

/* The 128-bit product for Lemire's method; __extension__ keeps -Wpedantic quiet about a type
 * both GCC and Clang have on every 64-bit target we build for. */
__extension__ typedef unsigned __int128 u128;

static const double two_pi = 6.283185307179586476925286766559;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64's output function: a bijection of 64-bit words with mix(0) = 0. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t cs_rng_splitmix64(uint64_t *x)
{
    *x += UINT64_C(0x9e3779b97f4a7c15);
    return mix(*x);
}

void cs_rng_seed(cs_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ mix(stream);
    int i;

    /* Four consecutive splitmix64 outputs come from four distinct inputs of a bijection, so at
     * most one is zero and the state is never all zero. */
    for (i = 0; i < 4; i++)
        r->s[i] = cs_rng_splitmix64(&x);
    r->spare = 0.0;
    r->has_spare = 0;
}

uint64_t cs_rng_u64(cs_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double cs_rng_uniform(cs_rng *r)
{
    return (double)(cs_rng_u64(r) >> 11) * 0x1.0p-53;
}

float cs_rng_uniformf(cs_rng *r)
{
    return (float)(cs_rng_u64(r) >> 40) * 0x1.0p-24f;
}

uint64_t cs_rng_below(cs_rng *r, uint64_t n)
{
    u128 m;
    uint64_t low;
    uint64_t threshold;

    CS_ASSERT(n > 0);
    m = (u128)cs_rng_u64(r) * n;
    low = (uint64_t)m;
    if (low < n) {
        /* 2^64 mod n: products whose low word falls below it would favour some results. */
        threshold = (0 - n) % n;
        while (low < threshold) {
            m = (u128)cs_rng_u64(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double cs_rng_normal(cs_rng *r)
{
    double u1;
    double u2;
    double rad;

    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    u1 = 1.0 - cs_rng_uniform(r); /* in (0, 1], so log(u1) is finite */
    u2 = cs_rng_uniform(r);
    rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(two_pi * u2);
    r->has_spare = 1;
    return rad * cos(two_pi * u2);
}

void cs_rng_shuffle(cs_rng *r, size_t *a, size_t n)
{
    size_t i;
    size_t j;
    size_t t;

    for (i = n; i > 1; i--) {
        j = (size_t)cs_rng_below(r, i);
        t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

void cs_rng_fill_uniform(cs_rng *r, float *x, size_t n, float lo, float hi)
{
    float width = hi - lo;
    float below_hi;
    size_t i;

    CS_ASSERT(isfinite(lo) && isfinite(hi) && lo <= hi);
    below_hi = nextafterf(hi, lo);
    for (i = 0; i < n; i++) {
        float v = lo + width * cs_rng_uniformf(r);

        x[i] = v < hi ? v : (lo < hi ? below_hi : lo);
    }
}

void cs_rng_fill_normal(cs_rng *r, float *x, size_t n, float mean, float std)
{
    size_t i;

    for (i = 0; i < n; i++)
        x[i] = (float)(mean + std * cs_rng_normal(r));
}
