/* fuzz/fuzz_bpe.c: libFuzzer target for data/bpe.c. Each input is (1) loaded as a tokenizer
 * file, in full and with a vocabulary cap, which must never crash, and a file that loads must
 * round-trip the input through encode and decode; (2) used as training text for a tiny BPE
 * (vocabulary 300, pairs seen once may merge, fewer merges allowed), which must encode and
 * decode the same bytes back. Built and run by `make fuzz`.
 */
#include "core/error.h"
#include "data/bpe.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Traps unless decode(encode(x)) == x under model b. */
static void check_roundtrip(const cs_bpe *b, const uint8_t *x, size_t n)
{
    cs_bpe_encoder *e = cs_bpe_encoder_alloc(b);
    uint32_t *ids = malloc((n + 1) * sizeof *ids);
    uint8_t *back = malloc(n + 1);
    size_t n_ids = 0;
    size_t n_back = 0;

    if (e == NULL || ids == NULL || back == NULL)
        __builtin_trap();
    if (cs_bpe_encode(e, x, n, ids, &n_ids) != CS_OK || n_ids > n)
        __builtin_trap();
    if (cs_bpe_decode(b, ids, n_ids, back, n, &n_back) != CS_OK || n_back != n)
        __builtin_trap();
    if (n > 0 && memcmp(back, x, n) != 0)
        __builtin_trap();
    free(back);
    free(ids);
    cs_bpe_encoder_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_bpe_params p = cs_bpe_default_params();
    cs_bpe *b = NULL;

    if (cs_bpe_load_mem(data, size, "fuzz.bpe", 0, &b) == CS_OK) {
        check_roundtrip(b, data, size);
        cs_bpe_free(b);
        b = NULL;
    }
    if (cs_bpe_load_mem(data, size, "fuzz.bpe", 257, &b) == CS_OK) {
        cs_bpe_free(b);
        b = NULL;
    }
    p.vocab = 300;
    p.min_count = 1;
    p.allow_fewer = true;
    p.n_threads = 1;
    if (cs_bpe_train(data, size, &p, &b) == CS_OK) {
        check_roundtrip(b, data, size);
        cs_bpe_free(b);
    } else if (size > 0) {
        __builtin_trap(); /* with allow_fewer, only empty text may fail */
    }
    return 0;
}
