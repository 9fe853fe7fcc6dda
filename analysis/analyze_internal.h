/* analysis/analyze_internal.h: what the files of the context-scaling analysis share
 * (analysis/analyze.c: the pipeline; analyze_law.c: the ndt law; analyze_out.c: CSV and JSON).
 * Not installed for users. Tested through tests/unit/test_analyze.c.
 */
#ifndef CS_ANALYSIS_ANALYZE_INTERNAL_H
#define CS_ANALYSIS_ANALYZE_INTERNAL_H

#include "analysis/analyze.h"

/* Appends a printf-formatted line to r->warnings. CS_OK or CS_ENOMEM. */
int cs_analyze_warn(cs_analyze_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fits the ndt law to the finished runs of r and solves its optima for every analysed budget
 * (per model size and joint) into r->law. A fit that cannot be made (too few runs, several
 * vocabularies, no convergence) leaves law.fitted false with the reason in law.message and is
 * not an error. Returns CS_OK or CS_ENOMEM. */
int cs_analyze_law_solve(cs_analyze_result *r);

#endif /* CS_ANALYSIS_ANALYZE_INTERNAL_H */
