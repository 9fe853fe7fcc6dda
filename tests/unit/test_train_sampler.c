/* tests/unit/test_train_sampler.c: the sampler choice of trainer/train.c on small byte-level
 * stores whose documents are each one repeated letter (so the packed stream's separator, the NUL
 * byte, is the only 0 in a window): parsing and naming the modes, cs_train_doc_ends against the
 * separators actually present in sampled windows (and against hand-counted windows, empty
 * documents skipped), the run log's sampler keys for a longdoc and a packed run, a packed run
 * evaluating where longdoc has no validation document long enough, and --resume refusing a
 * checkpoint of the other sampler with nothing changed. Run by `make test`.
 */
#include "tests/testutil.h"

#include "core/runlog_read.h"
#include "data/sampler.h"
#include "data/store.h"
#include "data/tokenizer.h"
#include "trainer/train.h"

#include <math.h>

#define MAX_DOCS 80

typedef struct fixture {
    char *dir;
    char store[4096];
    int n_out;
} fixture;

/* Document lengths: train documents 0..59 (some empty, some short, every seventh long), val
 * documents 60..65 of 100 tokens each (600 tokens). */
static size_t doc_len(size_t i)
{
    if (i >= 60)
        return 100;
    if (i % 9 == 4)
        return 0;
    if (i % 7 == 0)
        return 200;
    return 5 + (i * 13) % 40;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    cs_store_input in[MAX_DOCS];
    uint8_t *text[MAX_DOCS];
    cs_tok *tok = cs_tok_alloc_byte();
    size_t i, n = 66;

    assert_non_null(fx);
    assert_non_null(tok);
    fx->dir = tu_tmpdir();
    for (i = 0; i < n; i++) {
        size_t len = doc_len(i);

        text[i] = malloc(len ? len : 1);
        assert_non_null(text[i]);
        memset(text[i], 'A' + (int)(i % 26), len);
        in[i] = (cs_store_input){text[i], len, "letters", i >= 60 ? CS_STORE_VAL : CS_STORE_TRAIN};
    }
    snprintf(fx->store, sizeof fx->store, "%s/store", fx->dir);
    assert_int_equal(cs_store_build(fx->store, tok, NULL, in, n, NULL), CS_OK);
    for (i = 0; i < n; i++)
        free(text[i]);
    cs_tok_free(tok);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    free(fx->dir);
    free(fx);
    return 0;
}

static void test_parse(void **state)
{
    int mode = -1;

    (void)state;
    assert_int_equal(cs_train_sampler_parse("packed", &mode), CS_OK);
    assert_int_equal(mode, CS_SAMPLER_PACKED);
    assert_string_equal(cs_train_sampler_name(mode), "packed");
    assert_int_equal(cs_train_sampler_parse("longdoc", &mode), CS_OK);
    assert_int_equal(mode, CS_SAMPLER_LONGDOC);
    assert_string_equal(cs_train_sampler_name(mode), "longdoc");
    assert_int_equal(cs_train_sampler_parse("Packed", &mode), CS_EINPUT);
    tu_assert_errmsg_has("expected longdoc or packed, got \"Packed\"");
    assert_int_equal(cs_train_sampler_parse("mixture", &mode), CS_EINPUT);
    tu_assert_errmsg_has("per-source weights");
    assert_int_equal(cs_train_sampler_parse("", &mode), CS_EINPUT);
    assert_int_equal(mode, CS_SAMPLER_LONGDOC); /* unchanged by a refusal */
    assert_string_equal(cs_train_sampler_name(9), "?");
}

/* Separators (token 0) among the n tokens of a window. */
static uint64_t zeros(const uint32_t *tok, size_t n)
{
    uint64_t z = 0;

    for (size_t i = 0; i < n; i++)
        z += tok[i] == 0;
    return z;
}

/* cs_train_doc_ends equals the separators in every sampled window, for both modes and two
 * contexts; packed windows do hold document ends, several of them in some windows. */
static void test_doc_ends_sampled(void **state)
{
    fixture *fx = *state;
    cs_store *s = NULL;
    const size_t Ts[] = {16, 64};
    uint64_t total[2] = {0, 0}, most = 0;

    assert_int_equal(cs_store_open(fx->store, &s), CS_OK);
    for (int mode = CS_SAMPLER_LONGDOC; mode <= CS_SAMPLER_PACKED; mode++)
        for (size_t k = 0; k < 2; k++) {
            cs_sampler_params sp = cs_sampler_default_params();
            size_t T = Ts[k], B = 32;
            uint32_t *tok = malloc(B * (T + 1) * sizeof *tok);
            cs_sampler_window w[32];
            cs_sampler *smp;

            sp.mode = mode;
            sp.T = sp.L_max = T;
            sp.batch_tokens = B * T;
            sp.seed = 7;
            smp = cs_sampler_alloc(s, &sp);
            assert_non_null(smp);
            assert_non_null(tok);
            for (uint64_t step = 0; step < 6; step++) {
                assert_int_equal(cs_sampler_batch(smp, step, tok, w), CS_OK);
                for (size_t b = 0; b < B; b++) {
                    uint64_t e = cs_train_doc_ends(s, mode, &w[b], T + 1);

                    assert_int_equal(e, zeros(tok + b * (T + 1), T + 1));
                    total[mode] += e;
                    most = e > most ? e : most;
                }
            }
            cs_sampler_free(smp);
            free(tok);
        }
    assert_int_equal(total[CS_SAMPLER_LONGDOC], 0);
    assert_true(total[CS_SAMPLER_PACKED] > 100);
    assert_true(most >= 3); /* at T = 64 a window spans several short documents */
    cs_store_close(s);
}

/* Hand-counted windows: train documents 3 (44 tokens), 4 (empty) and 5 (30). */
static void test_doc_ends_by_hand(void **state)
{
    fixture *fx = *state;
    cs_store *s = NULL;
    cs_sampler_window w = {.doc = 3, .pos = 42, .seam = -1};

    assert_int_equal(cs_store_open(fx->store, &s), CS_OK);
    assert_int_equal(cs_store_doc_at(s, 3)->n_tokens, 44);
    assert_int_equal(cs_store_doc_at(s, 4)->n_tokens, 0);
    assert_int_equal(cs_store_doc_at(s, 5)->n_tokens, 30);
    assert_int_equal(cs_train_doc_ends(s, CS_SAMPLER_PACKED, &w, 2), 0); /* two letters */
    assert_int_equal(cs_train_doc_ends(s, CS_SAMPLER_PACKED, &w, 3), 1); /* and the separator */
    /* 2 + 1 of document 3, then document 5 (4 is empty, not in the stream): 30 + 1 more. */
    assert_int_equal(cs_train_doc_ends(s, CS_SAMPLER_PACKED, &w, 3 + 30), 1);
    assert_int_equal(cs_train_doc_ends(s, CS_SAMPLER_PACKED, &w, 3 + 31), 2);
    w.pos = 44; /* the window starts on document 3's separator */
    assert_int_equal(cs_train_doc_ends(s, CS_SAMPLER_PACKED, &w, 1), 1);
    assert_int_equal(cs_train_doc_ends(s, CS_SAMPLER_LONGDOC, &w, 1000), 0);
    assert_int_equal(cs_train_doc_ends(s, CS_SAMPLER_PACKED, &w, 0), 0);
    cs_store_close(s);
}

/* A tiny run: 1 layer, width 16, T = 32, 8 windows per step, 8 steps, evaluation at 2·T. */
static cs_train_params tiny(fixture *fx, char *out, size_t n_out, int sampler)
{
    cs_train_params p = cs_train_default_params();

    snprintf(out, n_out, "%s/run%d", fx->dir, fx->n_out++);
    p.data = fx->store;
    p.out = out;
    p.sampler = sampler;
    p.n_layer = 1;
    p.d_model = 16;
    p.n_head = 2;
    p.context = 32;
    p.batch_tokens = 256;
    p.tokens = 8 * 256;
    p.lr = 1e-2;
    p.eval_every = 4;
    p.eval_windows = 4;
    p.extrap = 2;
    p.threads = 1;
    return p;
}

/* Config key `key` of <out>/run.h5 as text (strings) or "%.17g" (numbers). */
static void config_of(const char *out, const char *key, char *buf, size_t n)
{
    char path[4096];
    cs_runlog_reader *r = NULL;
    const cs_runlog_kv *kv;

    snprintf(path, sizeof path, "%s/run.h5", out);
    assert_int_equal(cs_runlog_read_open(path, &r), CS_OK);
    kv = cs_runlog_read_config_find(r, key);
    assert_non_null(kv);
    if (kv->type == CS_RUNLOG_STR)
        snprintf(buf, n, "%s", kv->s);
    else
        snprintf(buf, n, "%.17g", kv->d);
    cs_runlog_read_close(r);
}

static double config_num(const char *out, const char *key)
{
    char buf[64];

    config_of(out, key, buf, sizeof buf);
    return strtod(buf, NULL);
}

static void test_check(void **state)
{
    fixture *fx = *state;
    char out[4096];
    cs_train_params p = tiny(fx, out, sizeof out, CS_SAMPLER_PACKED);

    assert_int_equal(cs_train_check(&p), CS_OK);
    p.sampler = CS_SAMPLER_MIXTURE;
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
    tu_assert_errmsg_has("--sampler: expected longdoc or packed, got mixture");
    p.sampler = 17;
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
    tu_assert_errmsg_has("--sampler");
}

/* The log says which sampler ran and what it did to the windows. */
static void test_logged(void **state)
{
    fixture *fx = *state;
    char o1[4096], o2[4096], buf[64];
    cs_train_params lp = tiny(fx, o1, sizeof o1, CS_SAMPLER_LONGDOC);
    cs_train_params pp = tiny(fx, o2, sizeof o2, CS_SAMPLER_PACKED);
    cs_train_result res;
    double cross, ends;

    assert_int_equal(cs_train_run(&lp, &res), CS_OK);
    assert_int_equal(res.status_code, CS_RUNLOG_FINISHED);
    assert_int_equal(cs_train_run(&pp, &res), CS_OK);
    assert_int_equal(res.status_code, CS_RUNLOG_FINISHED);
    assert_true(isfinite(res.loss_val));
    config_of(o1, "sampler", buf, sizeof buf);
    assert_string_equal(buf, "longdoc");
    config_of(o2, "sampler", buf, sizeof buf);
    assert_string_equal(buf, "packed");
    assert_true(config_num(o1, "sampler_train_cross_share") == 0);
    assert_true(config_num(o1, "sampler_eval_doc_ends") == 0);
    /* Packed: the val stream is 6 documents of 100 letters and a separator, so a window of
     * 2·32 + 1 tokens holds at most one separator, and holds one when it starts in the last 64
     * tokens of a document's 101: the share is a multiple of 1/4 and the ends equal it. */
    cross = config_num(o2, "sampler_eval_cross_share");
    ends = config_num(o2, "sampler_eval_doc_ends");
    assert_true(cross == ends);
    assert_true(cross * 4 == floor(cross * 4));
    assert_true(config_num(o2, "sampler_train_cross_share") > 0);
    assert_true(config_num(o2, "sampler_sep_token") == 0);
}

/* Evaluating 4·T = 128 positions: no validation document is long enough for longdoc; the packed
 * validation stream (606 tokens) serves. */
static void test_packed_eval_past_documents(void **state)
{
    fixture *fx = *state;
    char o1[4096], o2[4096];
    cs_train_params lp = tiny(fx, o1, sizeof o1, CS_SAMPLER_LONGDOC);
    cs_train_params pp = tiny(fx, o2, sizeof o2, CS_SAMPLER_PACKED);
    cs_train_result res;

    lp.extrap = pp.extrap = 4;
    assert_int_equal(cs_train_run(&lp, &res), CS_EINPUT);
    tu_assert_errmsg_has("validation windows");
    assert_int_equal(cs_train_run(&pp, &res), CS_OK);
    assert_int_equal(res.status_code, CS_RUNLOG_FINISHED);
    assert_true(config_num(o2, "sampler_eval_doc_ends") >= 1); /* 129 > 101 tokens */
}

/* Bytes of a file (caller frees); *n its size. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long len;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    b = malloc((size_t)len);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* Stopped after 3 steps in one mode, resumed in the other: refused, naming both samplers,
 * the checkpoint and the log untouched; resumed in its own mode it finishes. */
static void resume_across(fixture *fx, int first, int other)
{
    char out[4096], ckpt[4200], log[4200], want[96];
    cs_train_params p = tiny(fx, out, sizeof out, first);
    cs_train_result res;
    unsigned char *c0, *l0, *c1, *l1;
    size_t nc0, nl0, nc1, nl1;

    p.stop_after = 3;
    assert_int_equal(cs_train_run(&p, &res), CS_OK);
    assert_true(res.interrupted);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt.bin", out);
    snprintf(log, sizeof log, "%s/run.h5", out);
    c0 = slurp(ckpt, &nc0);
    l0 = slurp(log, &nl0);
    p.stop_after = 0;
    p.resume = true;
    p.sampler = other;
    assert_int_equal(cs_train_run(&p, &res), CS_EINPUT);
    snprintf(want, sizeof want, "trained with --sampler %s; this run asks for --sampler %s",
             cs_train_sampler_name(first), cs_train_sampler_name(other));
    tu_assert_errmsg_has(want);
    c1 = slurp(ckpt, &nc1);
    l1 = slurp(log, &nl1);
    assert_int_equal(nc0, nc1);
    assert_int_equal(nl0, nl1);
    assert_memory_equal(c0, c1, nc0);
    assert_memory_equal(l0, l1, nl0);
    p.sampler = first;
    assert_int_equal(cs_train_run(&p, &res), CS_OK);
    assert_int_equal(res.status_code, CS_RUNLOG_FINISHED);
    assert_int_equal(res.steps_done, 8);
    free(c0), free(l0), free(c1), free(l1);
}

static void test_resume_other_sampler(void **state)
{
    resume_across(*state, CS_SAMPLER_LONGDOC, CS_SAMPLER_PACKED);
    resume_across(*state, CS_SAMPLER_PACKED, CS_SAMPLER_LONGDOC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_doc_ends_sampled),
        cmocka_unit_test(test_doc_ends_by_hand),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_logged),
        cmocka_unit_test(test_packed_eval_past_documents),
        cmocka_unit_test(test_resume_other_sampler),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
