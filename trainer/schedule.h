/* trainer/schedule.h: learning-rate schedules: cosine with linear warm-up, constant with warm-up,
 * and warmup-stable-decay (WSD). Pure functions of the step, so a resumed run gets the same
 * rates. Tested in tests/unit/test_schedule.c.
 *
 * With W = warmup_steps, S = total_steps and s the 0-based step being taken:
 *   warm-up (all kinds), s < W:   lr = lr_max · (s + 1) / W
 *   cosine:    p = (s − W) / max(1, S − W − 1) in [0, 1]; lr = lr_min + ½ (lr_max − lr_min)(1 + cos
 * πp) constant:  lr = lr_max wsd:       lr = lr_max until the last ⌈decay_frac · S⌉ steps, then
 * linearly down to lr_min at the last step (the step after the stable phase is the first decayed
 * one).
 */
#ifndef CS_TRAINER_SCHEDULE_H
#define CS_TRAINER_SCHEDULE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_schedule_kind {
    CS_SCHEDULE_COSINE = 0,
    CS_SCHEDULE_CONSTANT = 1,
    CS_SCHEDULE_WSD = 2,
} cs_schedule_kind;

typedef struct cs_schedule {
    int kind;             /* cs_schedule_kind */
    double lr_max;        /* peak learning rate, > 0 */
    double lr_min;        /* final learning rate (cosine, wsd), 0 <= lr_min <= lr_max */
    int64_t warmup_steps; /* >= 0, < total_steps */
    int64_t total_steps;  /* > 0 */
    double decay_frac;    /* wsd: fraction of total_steps spent decaying, in (0, 1] */
} cs_schedule;

/* Checks a schedule; CS_EINPUT naming the field ("lr: expected a number > 0, got 0") otherwise. */
int cs_schedule_check(const cs_schedule *s);

/* The learning rate of 0-based step `step` (0 <= step < total_steps; later steps get the last
 * value). The schedule must have passed cs_schedule_check. */
double cs_schedule_lr(const cs_schedule *s, int64_t step);

/* "cosine", "constant", "wsd"; NULL for another value. */
const char *cs_schedule_name(int kind);

/* Parses a name of cs_schedule_name into *kind. CS_EINPUT ("<what>: expected cosine, constant or
 * wsd, got "x"") otherwise; `what` NULL means "schedule". */
int cs_schedule_parse(const char *name, int *kind, const char *what);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_SCHEDULE_H */
