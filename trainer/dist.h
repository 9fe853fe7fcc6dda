/* trainer/dist.h: the one data-parallel seam of the trainer. With MPI (a build where mpicc was
 * found, CS_HAVE_MPI) and a process launched by mpirun/srun, ranks split every batch and their
 * gradients are summed with MPI_Allreduce; otherwise there is one rank and every call is the
 * identity. A GPU build would put NCCL behind the same calls. Tested by
 * tests/cli/test_train_mpi.sh (2 ranks x half batch against 1 rank x full batch).
 */
#ifndef CS_TRAINER_DIST_H
#define CS_TRAINER_DIST_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Initialises MPI when the process was started by an MPI launcher (OMPI_COMM_WORLD_SIZE,
 * PMI_SIZE or PMIX_RANK in the environment) and this build has MPI; otherwise does nothing.
 * Call once, before any other cs_dist call. Returns CS_OK or CS_EIO ("MPI_Init failed"). */
int cs_dist_init(int *argc, char ***argv);

/* Finalises MPI if cs_dist_init started it. */
void cs_dist_finalize(void);

/* This process's rank (0 without MPI) and the number of ranks (1 without MPI). */
int cs_dist_rank(void);
int cs_dist_size(void);

/* In-place sums over all ranks of x[0..n) (every rank passes the same n). Identity with one
 * rank. CS_OK or CS_EIO. */
int cs_dist_sum_float(float *x, size_t n);
int cs_dist_sum_double(double *x, size_t n);

/* The maximum of v over all ranks (v itself with one rank). */
int cs_dist_max_int(int v);

/* Ends every rank after an error on one of them (MPI_Abort with `code`); returns with one rank. */
void cs_dist_abort(int code);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_DIST_H */
