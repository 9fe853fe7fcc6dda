/* trainer/dist.c: data-parallel collectives over MPI, or the single-rank identity (see
 * trainer/dist.h). Tested by tests/cli/test_train_mpi.sh.
 */
#include "trainer/dist.h"

#include "core/error.h"

#include <stdlib.h>

#ifdef CS_HAVE_MPI
#include <limits.h>
#include <mpi.h>

static bool started;
static int rank, size = 1;

int cs_dist_init(int *argc, char ***argv)
{
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK"))
        return CS_OK;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return cs_fail(CS_EIO, "MPI_Init failed");
    started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return CS_OK;
}

void cs_dist_finalize(void)
{
    if (started)
        MPI_Finalize();
    started = false;
}

int cs_dist_rank(void)
{
    return rank;
}

int cs_dist_size(void)
{
    return size;
}

/* MPI counts are int: large buffers go in pieces. */
static int sum_pieces(void *x, size_t n, size_t elem, MPI_Datatype t)
{
    char *p = x;

    while (n > 0) {
        int k = n > (size_t)INT_MAX ? INT_MAX : (int)n;

        if (MPI_Allreduce(MPI_IN_PLACE, p, k, t, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return cs_fail(CS_EIO, "MPI_Allreduce failed");
        p += (size_t)k * elem;
        n -= (size_t)k;
    }
    return CS_OK;
}

int cs_dist_sum_float(float *x, size_t n)
{
    return size > 1 ? sum_pieces(x, n, sizeof *x, MPI_FLOAT) : CS_OK;
}

int cs_dist_sum_double(double *x, size_t n)
{
    return size > 1 ? sum_pieces(x, n, sizeof *x, MPI_DOUBLE) : CS_OK;
}

int cs_dist_max_int(int v)
{
    int out = v;

    if (size > 1)
        MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return out;
}

void cs_dist_abort(int code)
{
    if (size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
}

#else /* one rank */

int cs_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return CS_OK;
}

void cs_dist_finalize(void)
{
}

int cs_dist_rank(void)
{
    return 0;
}

int cs_dist_size(void)
{
    return 1;
}

int cs_dist_sum_float(float *x, size_t n)
{
    (void)x;
    (void)n;
    return CS_OK;
}

int cs_dist_sum_double(double *x, size_t n)
{
    (void)x;
    (void)n;
    return CS_OK;
}

int cs_dist_max_int(int v)
{
    return v;
}

void cs_dist_abort(int code)
{
    (void)code;
}

#endif
