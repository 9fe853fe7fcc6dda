/* trainer/cuda/device.cu: CUDA start-up, the stream, cuBLAS, device memory and error
 * recording (trainer/cuda/device.h, trainer/cuda/kernel.h). Not an op, so it has no CPU twin
 * (make check-twins skips device.cu); it is exercised by every parity test in tests/parity/ and
 * by bench/bench_gpu.c.
 */
#include "trainer/cuda/device.h"
#include "trainer/cuda/kernel.h"

#include <mutex>
#include <stdio.h>
#include <string.h>

/* Everything cs_cuda_init sets up. Built once (std::call_once) and never torn down: the driver
 * releases it at process exit. */
struct device_state {
    int status;              /* CS_OK or CS_ECUDA */
    char msg[CS_ERRMSG_MAX]; /* the failure message when status != CS_OK */
    cudaStream_t stream;
    cublasHandle_t blas;
    double *partials; /* (CS_CUDA_PARTIALS) */
    int sm_count;
};

static device_state g_dev;
/* The arithmetic of the linear layers (cs_cuda_set_matmul_precision); may be set before start-up.
 */
static cublasComputeType_t g_compute = CUBLAS_COMPUTE_32F;
static std::once_flag g_once;

/* The first failure of a void launcher since the last cs_cuda_step_check(). The ops are issued
 * from one host thread (the training loop); the mutex only keeps a stray second thread from
 * tearing the message. */
static std::mutex g_note_mu;
static bool g_noted;
static char g_note[CS_ERRMSG_MAX];

static const char *blas_string(cublasStatus_t s)
{
    const char *name = cublasGetStatusString(s);

    return name ? name : "unknown cuBLAS status";
}

static int start(device_state *d)
{
    int n = 0, dev = 0;
    cudaDeviceProp prop;
    cublasStatus_t bs;
    int st;

    st = CS_CUDA(cudaGetDeviceCount(&n));
    if (st)
        return cs_fail_prefix(CS_ECUDA, "no CUDA device");
    if (n < 1)
        return cs_fail(CS_ECUDA, "no CUDA device: cudaGetDeviceCount found none");
    st = CS_CUDA(cudaGetDevice(&dev));
    if (!st)
        st = CS_CUDA(cudaGetDeviceProperties(&prop, dev));
    if (!st)
        st = CS_CUDA(cudaStreamCreate(&d->stream));
    if (!st)
        st = CS_CUDA(cudaMalloc((void **)&d->partials, CS_CUDA_PARTIALS * sizeof(double)));
    if (st)
        return st;
    bs = cublasCreate(&d->blas);
    if (bs == CUBLAS_STATUS_SUCCESS)
        bs = cublasSetStream(d->blas, d->stream);
    if (bs != CUBLAS_STATUS_SUCCESS)
        return cs_fail(CS_ECUDA, "cublasCreate: %s", blas_string(bs));
    d->sm_count = prop.multiProcessorCount;
    return CS_OK;
}

static void start_once(void)
{
    g_dev.status = start(&g_dev);
    if (g_dev.status)
        snprintf(g_dev.msg, sizeof g_dev.msg, "%s", cs_errmsg());
}

static void note_text(const char *file, int line, const char *expr, const char *what)
{
    std::lock_guard<std::mutex> lock(g_note_mu);

    if (g_noted)
        return;
    g_noted = true;
    snprintf(g_note, sizeof g_note, "%s:%d: %s: %s", file, line, expr, what);
}

// ---- start-up and memory ------------------------------------------------------------------

extern "C" int cs_cuda_init(void)
{
    std::call_once(g_once, start_once);
    if (g_dev.status)
        return cs_fail(g_dev.status, "%s", g_dev.msg);
    return CS_OK;
}

extern "C" bool cs_cuda_started(void)
{
    std::call_once(g_once, start_once);
    return g_dev.status == CS_OK;
}

extern "C" int cs_cuda_alloc(void **ptr, size_t bytes)
{
    size_t free_b = 0, total_b = 0;
    cudaError_t e;
    int st;

    *ptr = NULL;
    st = cs_cuda_init();
    if (st || bytes == 0)
        return st;
    e = cudaMalloc(ptr, bytes);
    if (e == cudaSuccess)
        return CS_OK;
    *ptr = NULL;
    if (e != cudaErrorMemoryAllocation)
        return CS_CUDA(e);
    (void)cudaGetLastError(); /* clear the non-sticky allocation error */
    (void)cudaMemGetInfo(&free_b, &total_b);
    return cs_fail(CS_ENOMEM,
                   "out of GPU memory: asked for %.3f GiB, %.3f GiB free of %.3f GiB; lower the "
                   "batch size or the context length",
                   (double)bytes / 1073741824.0, (double)free_b / 1073741824.0,
                   (double)total_b / 1073741824.0);
}

extern "C" void cs_cuda_free(void *ptr)
{
    if (!ptr)
        return;
    CS_CUDA_NOTE(cudaStreamSynchronize(g_dev.stream));
    CS_CUDA_NOTE(cudaFree(ptr));
}

static int copy_sync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
    int st = cs_cuda_init();

    if (st || bytes == 0)
        return st;
    st = CS_CUDA(cudaMemcpyAsync(dst, src, bytes, kind, g_dev.stream));
    if (st)
        return st;
    return cs_cuda_step_check();
}

extern "C" int cs_cuda_upload(void *dst, const void *src, size_t bytes)
{
    return copy_sync(dst, src, bytes, cudaMemcpyHostToDevice);
}

extern "C" int cs_cuda_download(void *dst, const void *src, size_t bytes)
{
    return copy_sync(dst, src, bytes, cudaMemcpyDeviceToHost);
}

extern "C" int cs_cuda_step_check(void)
{
    int st = cs_cuda_init();

    if (st)
        return st;
    st = CS_CUDA(cudaGetLastError());
    if (!st)
        st = CS_CUDA(cudaStreamSynchronize(g_dev.stream));
    std::lock_guard<std::mutex> lock(g_note_mu);
    if (g_noted) { /* the recorded failure came first: report it rather than its aftermath */
        g_noted = false;
        return cs_fail(CS_ECUDA, "%s", g_note);
    }
    return st;
}

// ---- settings and figures -----------------------------------------------------------------

extern "C" int cs_cuda_set_matmul_precision(const char *name)
{
    static const struct {
        const char *name;
        cublasComputeType_t type;
    } kinds[] = {
        {"fp32", CUBLAS_COMPUTE_32F},
        {"tf32", CUBLAS_COMPUTE_32F_FAST_TF32},
        {"bf16", CUBLAS_COMPUTE_32F_FAST_16BF},
    };

    for (size_t i = 0; name && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(name, kinds[i].name) == 0) {
            g_compute = kinds[i].type;
            return CS_OK;
        }
    }
    return cs_fail(CS_EINPUT, "matmul precision \"%s\": expected fp32, tf32 or bf16",
                   name ? name : "(null)");
}

extern "C" const char *cs_cuda_matmul_precision(void)
{
    if (g_compute == CUBLAS_COMPUTE_32F_FAST_TF32)
        return "tf32";
    if (g_compute == CUBLAS_COMPUTE_32F_FAST_16BF)
        return "bf16";
    return "fp32";
}

extern "C" int cs_cuda_mem_info(size_t *used, size_t *total)
{
    size_t free_b = 0, total_b = 0;
    int st = cs_cuda_init();

    if (!st)
        st = CS_CUDA(cudaMemGetInfo(&free_b, &total_b));
    if (st)
        return st;
    *used = total_b - free_b;
    *total = total_b;
    return CS_OK;
}

extern "C" int cs_cuda_describe(char *buf, size_t n)
{
    cudaDeviceProp prop;
    int dev = 0, rt = 0, drv = 0;
    int st = cs_cuda_init();

    if (!st)
        st = CS_CUDA(cudaGetDevice(&dev));
    if (!st)
        st = CS_CUDA(cudaGetDeviceProperties(&prop, dev));
    if (!st)
        st = CS_CUDA(cudaRuntimeGetVersion(&rt));
    if (!st)
        st = CS_CUDA(cudaDriverGetVersion(&drv));
    if (st)
        return st;
    snprintf(buf, n, "%s, sm_%d%d, %d SMs, %.1f GiB, CUDA runtime %d, driver %d", prop.name,
             prop.major, prop.minor, prop.multiProcessorCount,
             (double)prop.totalGlobalMem / 1073741824.0, rt, drv);
    return CS_OK;
}

// ---- internals for the ops (kernel.h) -----------------------------------------------------

extern "C" cudaStream_t cs_cuda_stream(void)
{
    return g_dev.stream;
}

extern "C" int cs_cuda_sm_count(void)
{
    return g_dev.sm_count > 0 ? g_dev.sm_count : 1;
}

extern "C" double *cs_cuda_partials(void)
{
    return g_dev.partials;
}

extern "C" int cs_cuda_status(cudaError_t e, const char *file, int line, const char *expr)
{
    if (e == cudaSuccess)
        return CS_OK;
    return cs_fail(CS_ECUDA, "%s:%d: %s: %s", file, line, expr, cudaGetErrorString(e));
}

extern "C" cudaError_t cs_cuda_note(cudaError_t e, const char *file, int line, const char *expr)
{
    if (e != cudaSuccess)
        note_text(file, line, expr, cudaGetErrorString(e));
    return e;
}

extern "C" void cs_cuda_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                             float alpha, const float *A, int lda, long long sA, const float *B,
                             int ldb, long long sB, float beta, float *Cm, int ldc, long long sC,
                             int batch, bool lowp)
{
    cublasComputeType_t ct = lowp ? g_compute : CUBLAS_COMPUTE_32F;
    cublasStatus_t s;

    if (batch == 1)
        s = cublasGemmEx(g_dev.blas, ta, tb, m, n, k, &alpha, A, CUDA_R_32F, lda, B, CUDA_R_32F,
                         ldb, &beta, Cm, CUDA_R_32F, ldc, ct, CUBLAS_GEMM_DEFAULT);
    else
        s = cublasGemmStridedBatchedEx(g_dev.blas, ta, tb, m, n, k, &alpha, A, CUDA_R_32F, lda, sA,
                                       B, CUDA_R_32F, ldb, sB, &beta, Cm, CUDA_R_32F, ldc, sC,
                                       batch, ct, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS)
        note_text(__FILE__, __LINE__, "cublasGemmEx", blas_string(s));
}
