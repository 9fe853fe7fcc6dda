/* tests/unit/test_train.c: the training loop of trainer/train.c through its library API, on a
 * small synthetic token store: the settings check, the planned steps, the run log's columns
 * against their definitions (tokens, FLOPs, the WSD learning rate of trainer/schedule.c),
 * gradient accumulation (one micro-batch per window gives the trajectory of one micro-batch per
 * step up to float summation order), μP's width multiplier 1 equal to GPT-2's parametrisation,
 * --stop-after then resume equal to an uninterrupted run, and divergence. Run by `make test`.
 */
#include "tests/testutil.h"

#include "core/flops.h"
#include "core/runlog.h"
#include "core/runlog_read.h"
#include "core/table.h"
#include "data/synth.h"
#include "trainer/schedule.h"
#include "trainer/train.h"

#include <math.h>

typedef struct fixture {
    char *dir;  /* temporary directory */
    char *data; /* token store inside it */
    int n_out;  /* output directories made so far */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    cs_synth_params sp = cs_synth_default_params();
    cs_synth_store_params stp = {.n_docs = 24, .doc_len = 256, .val_frac = 0.25, .force = false};
    cs_synth *s = NULL;

    assert_non_null(fx);
    fx->dir = tu_tmpdir();
    fx->data = malloc(4096);
    assert_non_null(fx->data);
    snprintf(fx->data, 4096, "%s/synth", fx->dir);
    sp.vocab = 32;
    sp.alpha = 2;
    assert_int_equal(cs_synth_create(&sp, &s), CS_OK);
    assert_int_equal(cs_synth_write_store(s, fx->data, &stp, NULL), CS_OK);
    cs_synth_free(s);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    free(fx->data);
    free(fx->dir);
    free(fx);
    return 0;
}

/* A tiny run: 2 layers, width 16, T = 32, 8 windows per step, 12 steps, quiet. */
static cs_train_params tiny(fixture *fx, char *out, size_t n_out)
{
    cs_train_params p = cs_train_default_params();

    snprintf(out, n_out, "%s/run%d", fx->dir, fx->n_out++);
    p.data = fx->data;
    p.out = out;
    p.n_layer = 2;
    p.d_model = 16;
    p.n_head = 2;
    p.context = 32;
    p.batch_tokens = 256;
    p.tokens = 12 * 256;
    p.lr = 1e-2;
    p.eval_every = 6;
    p.eval_windows = 4;
    p.extrap = 2;
    p.threads = 1;
    return p;
}

/* The steps table of <out>/run.h5 and its status. */
static cs_table *read_steps(const char *out, int *status)
{
    char path[4096];
    cs_runlog_reader *r = NULL;
    cs_table *t = NULL;

    snprintf(path, sizeof path, "%s/run.h5", out);
    assert_int_equal(cs_runlog_read_open(path, &r), CS_OK);
    assert_int_equal(cs_runlog_read_steps(r, &t), CS_OK);
    *status = cs_runlog_read_status(r);
    cs_runlog_read_close(r);
    return t;
}

static const double *column(const cs_table *t, const char *name)
{
    long c = cs_table_find(t, name);

    assert_true(c >= 0);
    return cs_table_num_col(t, (size_t)c);
}

static void test_check(void **state)
{
    fixture *fx = *state;
    char out[4096];
    cs_train_params p = tiny(fx, out, sizeof out);

    assert_int_equal(cs_train_check(&p), CS_OK);
    assert_int_equal(cs_train_steps(&p), 12);
    p.n_head = 3;
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
    p = tiny(fx, out, sizeof out);
    p.n_head = 4; /* head size 4: fine; 16 / 8 = 2 also even */
    assert_int_equal(cs_train_check(&p), CS_OK);
    p.d_model = 12;
    p.n_head = 4; /* head size 3: odd */
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
    tu_assert_errmsg_has("even");
    p = tiny(fx, out, sizeof out);
    p.lr = 0;
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
    tu_assert_errmsg_has("--lr");
    p = tiny(fx, out, sizeof out);
    p.tokens = 255;
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
    tu_assert_errmsg_has("zero optimizer steps");
    p = tiny(fx, out, sizeof out);
    p.batch_tokens = 100;
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
    p = tiny(fx, out, sizeof out);
    p.micro_tokens = 96; /* a multiple of T that does not divide 256 */
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
    p = tiny(fx, out, sizeof out);
    p.mup_base_width = -1;
    assert_int_equal(cs_train_check(&p), CS_EINPUT);
}

/* tokens, FLOPs and the learning rate of every logged step are the definitions' values. */
static void test_columns_wsd(void **state)
{
    fixture *fx = *state;
    char out[4096];
    cs_train_params p = tiny(fx, out, sizeof out);
    cs_train_result res;
    cs_schedule s = {.kind = CS_SCHEDULE_WSD,
                     .lr_max = 1e-2,
                     .lr_min = 1e-3,
                     .warmup_steps = 2,
                     .total_steps = 12,
                     .decay_frac = 0.25};
    cs_model_shape shape = {2, 16, 2, 32, 32};
    double fpt;
    int status;
    cs_table *t;

    p.schedule = CS_SCHEDULE_WSD;
    p.lr_min = 1e-3;
    p.warmup_steps = 2;
    p.decay_frac = 0.25;
    assert_int_equal(cs_train_run(&p, &res), CS_OK);
    assert_int_equal(res.steps_done, 12);
    assert_int_equal(res.status_code, CS_RUNLOG_FINISHED);
    assert_true(isfinite(res.loss_val));
    assert_int_equal(cs_flops_per_token(&shape, CS_FLOPS_DEFAULT, &fpt), CS_OK);
    t = read_steps(out, &status);
    assert_int_equal(status, CS_RUNLOG_FINISHED);
    assert_int_equal(cs_table_nrows(t), 12);
    for (size_t i = 0; i < 12; i++) {
        assert_true(column(t, "step")[i] == (double)(i + 1));
        assert_true(column(t, "tokens")[i] == (double)((i + 1) * 256));
        assert_true(fabs(column(t, "flops")[i] - fpt * (double)((i + 1) * 256)) <=
                    1e-9 * column(t, "flops")[i]);
        assert_true(column(t, "lr")[i] == cs_schedule_lr(&s, (int64_t)i));
        assert_true(column(t, "tokens_unique")[i] <= column(t, "tokens")[i]);
        assert_true(column(t, "loss_train")[i] > 0 && column(t, "grad_norm")[i] > 0);
    }
    cs_table_free(t);
}

/* Runs p and returns its steps table (12 rows; caller frees). */
static cs_table *run_steps(cs_train_params *p)
{
    cs_train_result res;
    int status;
    cs_table *t;

    assert_int_equal(cs_train_run(p, &res), CS_OK);
    t = read_steps(p->out, &status);
    assert_int_equal(cs_table_nrows(t), 12);
    return t;
}

/* Runs p and returns its loss_train column (12 values, caller frees). */
static double *losses_of(cs_train_params *p)
{
    cs_table *t = run_steps(p);
    double *l = malloc(12 * sizeof *l);

    assert_non_null(l);
    memcpy(l, column(t, "loss_train"), 12 * sizeof *l);
    cs_table_free(t);
    return l;
}

/* Relative difference of a and b. */
static double rel(double a, double b)
{
    return fabs(a - b) / fabs(a);
}

/* Eight micro-batches of one window each against one micro-batch of eight windows: the same
 * mean loss and gradient (its norm is logged) up to float summation order, so the trajectories
 * agree closely. The gradient norm of step 1 would be 8 times off if the micro-batches were not
 * scaled by the whole batch. */
static void test_accumulation(void **state)
{
    fixture *fx = *state;
    char o1[4096], o8[4096];
    cs_train_params p1 = tiny(fx, o1, sizeof o1), p8 = tiny(fx, o8, sizeof o8);
    cs_table *t1, *t8;
    const double *l1, *l8, *g1, *g8;

    p1.micro_tokens = 256;
    p8.micro_tokens = 32;
    t1 = run_steps(&p1);
    t8 = run_steps(&p8);
    l1 = column(t1, "loss_train");
    l8 = column(t8, "loss_train");
    g1 = column(t1, "grad_norm");
    g8 = column(t8, "grad_norm");
    assert_true(rel(l1[0], l8[0]) < 1e-6);
    assert_true(rel(g1[0], g8[0]) < 1e-5);
    for (size_t i = 0; i < 12; i++)
        if (rel(l1[i], l8[i]) > 1e-3 || rel(g1[i], g8[i]) > 1e-2)
            fail_msg("step %zu: loss %.9g, gradient norm %.9g with one micro-batch; %.9g, %.9g "
                     "with eight",
                     i + 1, l1[i], g1[i], l8[i], g8[i]);
    assert_true(l1[11] < l1[0] - 0.1); /* and it learns */
    cs_table_free(t1);
    cs_table_free(t8);
}

/* μP with a base width equal to d_model is GPT-2's parametrisation bit for bit; base width 8
 * (multiplier 2) is not. */
static void test_mup_identity(void **state)
{
    fixture *fx = *state;
    char o1[4096], o2[4096], o3[4096];
    cs_train_params sp = tiny(fx, o1, sizeof o1), m1 = tiny(fx, o2, sizeof o2);
    cs_train_params m2 = tiny(fx, o3, sizeof o3);
    double *a, *b, *c;

    m1.mup_base_width = 16;
    m2.mup_base_width = 8;
    a = losses_of(&sp);
    b = losses_of(&m1);
    c = losses_of(&m2);
    assert_memory_equal(a, b, 12 * sizeof *a);
    assert_true(a[11] != c[11]);
    free(a);
    free(b);
    free(c);
}

/* Stopped after 5 steps, then resumed: the same 12 losses, bit for bit, as one run. */
static void test_stop_resume(void **state)
{
    fixture *fx = *state;
    char o1[4096], o2[4096];
    cs_train_params ref = tiny(fx, o1, sizeof o1), p = tiny(fx, o2, sizeof o2);
    cs_train_result res;
    double *a, *b;
    int status;
    cs_table *t;

    a = losses_of(&ref);
    p.stop_after = 5;
    assert_int_equal(cs_train_run(&p, &res), CS_OK);
    assert_true(res.interrupted);
    assert_int_equal(res.steps_done, 5);
    t = read_steps(o2, &status);
    assert_int_equal(status, CS_RUNLOG_RUNNING);
    assert_int_equal(cs_table_nrows(t), 5);
    cs_table_free(t);
    p.stop_after = 0;
    p.resume = true;
    b = losses_of(&p);
    assert_memory_equal(a, b, 12 * sizeof *a);
    free(a);
    free(b);
}

/* A learning rate that blows the weights up: status diverged, the run stops at that step. */
static void test_diverged(void **state)
{
    fixture *fx = *state;
    char out[4096];
    cs_train_params p = tiny(fx, out, sizeof out);
    cs_train_result res;
    int status;
    cs_table *t;

    p.lr = 1e9;
    p.grad_clip = 0;
    p.warmup_steps = 0;
    assert_int_equal(cs_train_run(&p, &res), CS_OK);
    assert_int_equal(res.status_code, CS_RUNLOG_DIVERGED);
    assert_true(res.steps_done < 12);
    t = read_steps(out, &status);
    assert_int_equal(status, CS_RUNLOG_DIVERGED);
    assert_int_equal((int64_t)cs_table_nrows(t), res.steps_done);
    assert_false(isfinite(column(t, "loss_train")[res.steps_done - 1]) &&
                 isfinite(column(t, "grad_norm")[res.steps_done - 1]));
    cs_table_free(t);
}

/* Bad input that needs the data: vocabulary mismatch, context longer than every document, an
 * existing run without force; each CS_EINPUT with nothing written. */
static void test_bad_data(void **state)
{
    fixture *fx = *state;
    char out[4096];
    cs_train_params p = tiny(fx, out, sizeof out);
    cs_train_result res;

    p.vocab = 33;
    assert_int_equal(cs_train_run(&p, &res), CS_EINPUT);
    tu_assert_errmsg_has("vocabulary 32");
    p = tiny(fx, out, sizeof out);
    p.context = 512;
    p.batch_tokens = 512;
    p.tokens = 5120;
    assert_int_equal(cs_train_run(&p, &res), CS_EINPUT);
    assert_int_equal(access(out, F_OK), -1);
    p = tiny(fx, out, sizeof out);
    p.tokens = 256;
    assert_int_equal(cs_train_run(&p, &res), CS_OK);
    assert_int_equal(cs_train_run(&p, &res), CS_EINPUT);
    tu_assert_errmsg_has("--force");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),        cmocka_unit_test(test_columns_wsd),
        cmocka_unit_test(test_accumulation), cmocka_unit_test(test_mup_identity),
        cmocka_unit_test(test_stop_resume),  cmocka_unit_test(test_diverged),
        cmocka_unit_test(test_bad_data),
    };
    cs_train_set_threads(1);
    return cmocka_run_group_tests(tests, setup, teardown);
}
