/* trainer/cuda_stub.c: stands in for the CUDA ops table in a build without nvcc: no CUDA table,
 * CUDA never available. The Makefile links this file instead of trainer/cuda/ when nvcc is
 * absent (STYLE.md, "CPU twin, CUDA kernel, parity test"). Tested by tests/unit/test_model.c.
 */
#include "trainer/ops.h"

#include <stddef.h>

const cs_ops *cs_cuda_ops(void)
{
    return NULL;
}

bool cs_cuda_is_available(void)
{
    return false;
}
