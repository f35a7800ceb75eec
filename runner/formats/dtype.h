/* Element types of tensors, their names, sizes and host conversions. */
#ifndef KG_DTYPE_H
#define KG_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum kg_dtype {
    KG_DTYPE_F32 = 0,
    KG_DTYPE_F16 = 1,
    KG_DTYPE_BF16 = 2,
    KG_DTYPE_I32 = 3,
    KG_DTYPE_I64 = 4,
    KG_DTYPE_U8 = 5, /* bytes: masks (a torch.bool tensor is one byte per element) */
    /* OCP 8-bit floats (torch.float8_e4m3fn, torch.float8_e5m2): e4m3 has 4
     * exponent bits (bias 7), 3 mantissa bits, no infinities, one NaN
     * (S.1111.111), largest 448; e5m2 has 5 (bias 15) and 2, IEEE-like
     * infinities and NaNs, largest 57344. */
    KG_DTYPE_F8E4M3 = 6,
    KG_DTYPE_F8E5M2 = 7,
    KG_DTYPE_I8 = 8,
    KG_DTYPE_COUNT
} kg_dtype;

/* For messages: every name, as a workload file spells it. */
#define KG_DTYPE_NAMES "f32, f16, bf16, i32, i64, u8, f8e4m3, f8e5m2, i8"

/* "f32", "f16", "bf16", "i32", "i64", "u8", "f8e4m3", "f8e5m2", "i8". */
const char *kg_dtype_name(kg_dtype t);
/* Reverse of kg_dtype_name; -1 for an unknown name. */
int kg_dtype_parse(const char *name);
size_t kg_dtype_size(kg_dtype t);
int kg_dtype_is_float(kg_dtype t);

/* Element i of a buffer of type t, as a double. */
double kg_dtype_load(kg_dtype t, const void *data, size_t i);
/* Stores v (rounded to nearest even for f16/bf16/fp8, truncated for ints,
 * u8 clamped to [0, 255], i8 to [-128, 127]; fp8 saturates to its largest
 * finite value, as quantising kernels do (CUDA's __NV_SATFINITE); NaN stays
 * NaN). */
void kg_dtype_store(kg_dtype t, void *data, size_t i, double v);

/* The bits of an IEEE binary32 value and back (memcpy, no aliasing tricks). */
uint32_t kg_f32_bits(float f);
float kg_f32_from_bits(uint32_t u);

#endif
