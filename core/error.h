/* core/error.h: status codes, the per-thread error message, and CS_ASSERT for invariants.
 *
 * Library code reports failures by returning a cs_status and recording a message with cs_fail();
 * only cli/ prints messages and picks exit codes (cs_exit_code). Tested in
 * tests/unit/test_error.c.
 */
#ifndef CS_CORE_ERROR_H
#define CS_CORE_ERROR_H

#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_status {
    CS_OK = 0,
    CS_EINVAL,  /* caller broke a documented precondition */
    CS_EINPUT,  /* bad user data; message names file, line/field, expectation */
    CS_EIO,     /* open/read/write failed; message carries strerror(errno) */
    CS_ENOMEM,  /* allocation failed */
    CS_ENOCONV, /* an iterative method stopped without converging */
    CS_EGSL,    /* other GSL failure; message carries gsl_strerror() */
    CS_ECUDA,   /* CUDA/cuBLAS/NCCL failure; message carries the library's string */
} cs_status;

/* Largest length of a recorded message, terminating NUL included; longer ones are cut. */
#define CS_ERRMSG_MAX 2048

/* Records a printf-style message as this thread's last error and returns `status` unchanged, so
 * callers write `return cs_fail(CS_EINPUT, "...", ...)`. Thread-safe (the message is
 * _Thread_local). Never fails. */
int cs_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to this thread's last message (for adding file or field context when an
 * error travels up) and returns `status`. */
int cs_fail_prefix(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* This thread's last recorded message ("" if none). The pointer stays valid until the next
 * cs_fail* call on this thread. */
const char *cs_errmsg(void);

/* Clears this thread's message. */
void cs_errclear(void);

/* Short name of a status ("EINPUT", ...), for logs and tests. */
const char *cs_status_name(int status);

/* CLI exit code for a status: 0 for CS_OK, 2 for CS_EINVAL and CS_EINPUT (usage, bad input),
 * 1 for every runtime failure. */
int cs_exit_code(int status);

/* Aborts with "file:line: func: assertion "cond" failed" when cond is false. On in every build;
 * only for conditions no user input can reach. */
#define CS_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: assertion \"%s\" failed\n", __FILE__, __LINE__, __func__,  \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif /* CS_CORE_ERROR_H */
