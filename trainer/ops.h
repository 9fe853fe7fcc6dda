/* trainer/ops.h: the ops table, the one way the trainer reaches the kernels of trainer/<op>.h.
 *
 * cs_ops holds one function pointer per twin (CPU or CUDA, identical parameter lists) plus two
 * memory helpers (zeroing and copying a float array), so the model in trainer/model.c is written
 * once and runs on whichever table it is given. cs_cpu_ops() is defined in trainer/ops.c;
 * cs_cuda_ops() in trainer/cuda/ when CUDA is built, else in trainer/cuda_stub.c (returns NULL).
 * No trainer file other than the CUDA table names a `_cuda` symbol. Used (and so tested) by
 * tests/unit/test_model.c.
 */
#ifndef CS_TRAINER_OPS_H
#define CS_TRAINER_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One table of kernels. Every pointer is set; pointer arguments are host memory for the CPU
 * table and device memory for the CUDA table. Semantics: trainer/<op>.h. */
typedef struct cs_ops {
    const char *name;                                     /* "cpu" or "cuda" */
    void (*zero)(float *x, size_t n);                     /* x[0..n) = 0 */
    void (*copy)(float *dst, const float *src, size_t n); /* dst[0..n) = src[0..n) */
    void (*encoder_forward)(float *out, const uint32_t *tokens, const float *wte, size_t BT,
                            size_t C, size_t V);
    void (*encoder_backward)(float *dwte, const float *dout, const uint32_t *tokens, size_t BT,
                             size_t C, size_t V);
    void (*layernorm_forward)(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, size_t BT, size_t C);
    void (*layernorm_backward)(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean,
                               const float *rstd, size_t BT, size_t C);
    void (*matmul_forward)(float *out, const float *inp, const float *weight, const float *bias,
                           size_t BT, size_t C, size_t OC);
    void (*matmul_backward)(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, size_t BT, size_t C, size_t OC);
    void (*rope_forward)(float *out, const float *inp, const float *cos_tab, const float *sin_tab,
                         size_t B, size_t T, size_t C, size_t NH);
    void (*rope_backward)(float *dinp, const float *dout, const float *cos_tab,
                          const float *sin_tab, size_t B, size_t T, size_t C, size_t NH);
    void (*attention_forward)(float *out, float *att, const float *qkv, size_t B, size_t T,
                              size_t C, size_t NH);
    void (*attention_backward)(float *dqkv, float *scratch, const float *dout, const float *qkv,
                               const float *att, size_t B, size_t T, size_t C, size_t NH);
    void (*residual_forward)(float *out, const float *inp1, const float *inp2, size_t n);
    void (*residual_backward)(float *dinp1, float *dinp2, const float *dout, size_t n);
    void (*gelu_forward)(float *out, const float *in, size_t n);
    void (*gelu_backward)(float *dinp, const float *in, const float *dout, size_t n);
    void (*xent_forward)(float *losses, float *lse, const float *logits, const uint32_t *targets,
                         size_t BT, size_t V);
    void (*xent_backward)(float *dlogits, const float *logits, const float *lse,
                          const uint32_t *targets, const float *dlosses, float scale, size_t BT,
                          size_t V);
    void (*adamw_update)(float *params, float *m, float *v, const float *grads, size_t n, float lr,
                         float beta1, float beta2, float eps, float weight_decay, float grad_scale,
                         int step);
    void (*adamw_norm)(float *norm, const float *grads, size_t n);
} cs_ops;

/* The CPU table (trainer/<op>.c twins, memset/memcpy helpers). Static; never NULL. */
const cs_ops *cs_cpu_ops(void);

/* The CUDA table, or NULL when ctxscale was built without CUDA (trainer/cuda_stub.c). */
const cs_ops *cs_cuda_ops(void);

/* True when the CUDA table exists and a device is usable; false in a CPU-only build. */
bool cs_cuda_is_available(void);

#ifdef __cplusplus
}
#endif
#endif /* CS_TRAINER_OPS_H */
