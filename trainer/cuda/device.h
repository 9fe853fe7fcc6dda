/* trainer/cuda/device.h: the CUDA device as the rest of ctxscale sees it, in plain C: start-up,
 * device memory, host <-> device copies, the per-step error check, the precision of the matrix
 * products, and memory figures. No CUDA header is needed to use it.
 *
 * One process drives one GPU: the device current when CUDA is first used (the CUDA default, 0,
 * unless the caller ran cudaSetDevice before or restricts CUDA_VISIBLE_DEVICES, as a
 * data-parallel launcher does per rank). All work runs in order on one stream owned by
 * trainer/cuda/device.cu; the kernels of trainer/cuda/<op>.cu are reached through the ops table
 * (cs_cuda_ops(), trainer/ops.h), never by name. Compiled only where nvcc exists (the Makefile);
 * a CPU-only build has none of these functions. Used by the parity tests tests/parity/<op>.c and
 * bench/bench_gpu.c, which are the tests of this file (docs/cuda.md).
 *
 * Errors: the op launchers return void, as their CPU twins do. A failed launch, a failed kernel
 * or a failed cuBLAS call is recorded and reported by the next cs_cuda_step_check(), which the
 * trainer calls once per step and the parity tests after every op.
 */
#ifndef CS_TRAINER_CUDA_DEVICE_H
#define CS_TRAINER_CUDA_DEVICE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts CUDA on the current device once per process: checks that a device exists, creates the
 * stream, the cuBLAS handle and a small reduction workspace. Later calls return the first call's
 * result. Returns CS_OK, or CS_ECUDA with the CUDA or cuBLAS message ("no CUDA device:
 * cudaGetDeviceCount: CUDA driver version is insufficient ..."). Thread-safe. */
int cs_cuda_init(void);

/* Allocates `bytes` of device memory into *ptr (NULL for bytes = 0). Returns CS_OK; CS_ECUDA
 * when CUDA is not usable; CS_ENOMEM when the device is out of memory, with a message saying how
 * much was asked, how much is free and what to lower ("... lower the batch size or the context
 * length"). *ptr is NULL on failure. */
int cs_cuda_alloc(void **ptr, size_t bytes);

/* Frees memory from cs_cuda_alloc. Accepts NULL. Waits for the stream first, so a buffer still
 * in use by queued work is never freed under it. */
void cs_cuda_free(void *ptr);

/* Copies `bytes` from host memory src to device memory dst (upload), or from device memory src
 * to host memory dst (download), in stream order, and waits for the copy. Returns CS_OK or
 * CS_ECUDA (also for an error recorded earlier by an op: the copy then reports it). */
int cs_cuda_upload(void *dst, const void *src, size_t bytes);
int cs_cuda_download(void *dst, const void *src, size_t bytes);

/* Waits for all queued work and reports the first error since the last check: a launch error,
 * a fault inside a kernel (device-side assertions included), or a failed cuBLAS call. Returns
 * CS_OK or CS_ECUDA with "<file>:<line>: <call>: <message>". A fault inside a kernel leaves the
 * CUDA context unusable: every later call fails too. */
int cs_cuda_step_check(void);

/* Sets the arithmetic of the linear layers (cs_matmul_*_cuda; attention stays fp32):
 *   "fp32"  float32 products (the default; cuBLAS CUBLAS_COMPUTE_32F, no tensor-core shortcut)
 *   "tf32"  operands rounded to TF32 (10-bit mantissa) on the tensor cores, float32 accumulation
 *   "bf16"  operands rounded to bfloat16 (8-bit mantissa) on the tensor cores, float32
 *           accumulation; inputs, outputs and weights stay float32 in memory
 * Applies to products issued after the call. Returns CS_OK, or CS_EINPUT naming the accepted
 * values when `name` is none of them (the setting is then unchanged). */
int cs_cuda_set_matmul_precision(const char *name);

/* The current setting of cs_cuda_set_matmul_precision: "fp32", "tf32" or "bf16". */
const char *cs_cuda_matmul_precision(void);

/* Device memory in use (total minus free, every process and the CUDA context included) and the
 * device's total, in bytes. Returns CS_OK or CS_ECUDA. */
int cs_cuda_mem_info(size_t *used, size_t *total);

/* Writes a one-line description of the device into buf (n bytes, NUL-terminated, cut to fit):
 * "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB, CUDA runtime 13000, driver 13000".
 * Returns CS_OK or CS_ECUDA. */
int cs_cuda_describe(char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_CUDA_DEVICE_H */
