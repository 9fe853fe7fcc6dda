/* trainer/schedule.c: learning-rate schedules (cosine, constant, warmup-stable-decay).
 * Declared in trainer/schedule.h; tested in tests/unit/test_schedule.c.
 */
#include "trainer/schedule.h"

#include "core/error.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static const char *const names[] = {"cosine", "constant", "wsd"};

const char *cs_schedule_name(int kind)
{
    return kind >= 0 && kind < 3 ? names[kind] : NULL;
}

int cs_schedule_parse(const char *name, int *kind, const char *what)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *kind = i;
            return CS_OK;
        }
    return cs_fail(CS_EINPUT, "%s: expected cosine, constant or wsd, got \"%s\"",
                   what ? what : "schedule", name);
}

int cs_schedule_check(const cs_schedule *s)
{
    if (!cs_schedule_name(s->kind))
        return cs_fail(CS_EINPUT, "schedule: unknown kind %d", s->kind);
    if (!isfinite(s->lr_max) || s->lr_max <= 0)
        return cs_fail(CS_EINPUT, "lr: expected a number > 0, got %g", s->lr_max);
    if (!isfinite(s->lr_min) || s->lr_min < 0 || s->lr_min > s->lr_max)
        return cs_fail(CS_EINPUT, "lr-min: expected a number in [0, lr = %g], got %g", s->lr_max,
                       s->lr_min);
    if (s->total_steps <= 0)
        return cs_fail(CS_EINPUT, "steps: expected at least 1 optimizer step, got %lld",
                       (long long)s->total_steps);
    if (s->warmup_steps < 0 || s->warmup_steps >= s->total_steps)
        return cs_fail(CS_EINPUT, "warmup: expected 0 <= warmup steps < %lld steps, got %lld",
                       (long long)s->total_steps, (long long)s->warmup_steps);
    if (s->kind == CS_SCHEDULE_WSD && !(s->decay_frac > 0 && s->decay_frac <= 1))
        return cs_fail(CS_EINPUT, "decay-frac: expected a number in (0, 1], got %g", s->decay_frac);
    return CS_OK;
}

double cs_schedule_lr(const cs_schedule *s, int64_t step)
{
    int64_t S = s->total_steps, W = s->warmup_steps;

    if (step >= S)
        step = S - 1;
    if (step < W)
        return s->lr_max * (double)(step + 1) / (double)W;
    if (s->kind == CS_SCHEDULE_COSINE) {
        double p = (double)(step - W) / (double)(S - W > 1 ? S - W - 1 : 1);

        return s->lr_min + 0.5 * (s->lr_max - s->lr_min) * (1 + cos(M_PI * p));
    }
    if (s->kind == CS_SCHEDULE_WSD) {
        int64_t n_decay = (int64_t)ceil(s->decay_frac * (double)S);
        int64_t start = S - n_decay; /* first decayed step */

        if (start < W)
            start = W;
        if (step < start)
            return s->lr_max;
        return s->lr_max +
               (s->lr_min - s->lr_max) * (double)(step - start + 1) / (double)(S - start);
    }
    return s->lr_max;
}
