/* Fresh plausible output contents before every run. */
#include "output_fill.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The kernels' source: kernels/output_fill.kc, embedded at build time. */
extern const char kg_output_fill_kc[];

const char *kg_output_fill_source(void)
{
    return kg_output_fill_kc;
}

uint32_t kg_fill_hash(uint32_t i, uint32_t s0, uint32_t s1)
{
    uint32_t x = (i * 0x9E3779B1u) ^ s0;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    x ^= s1;
    x *= 0x9E3779B1u;
    x ^= x >> 15;
    return x;
}

static uint32_t element_mask(kg_dtype dtype)
{
    size_t size = kg_dtype_size(dtype);
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1u;
}

uint32_t kg_fill_bits(const kg_fill_pattern *p, size_t index)
{
    uint32_t n = (uint32_t)p->pool_count, hi = (uint32_t)(p->seed >> 32);
    uint32_t h = kg_fill_hash((uint32_t)index, (uint32_t)p->seed, hi & 0x7fffffffu);
    return p->pool[(h % n + (hi >> 31)) % n] & element_mask(p->dtype);
}

uint64_t kg_fill_seed_shifted(uint64_t seed)
{
    return seed | (UINT64_C(1) << 63);
}

int kg_fill_holds(const kg_fill_pattern *p, const void *data, size_t index)
{
    size_t size = kg_dtype_size(p->dtype);
    if (size > 4)
        return 0;
    uint32_t bits = 0;
    memcpy(&bits, (const unsigned char *)data + index * size, size); /* little-endian */
    return bits == kg_fill_bits(p, index);
}

void kg_fill_pool_from_values(kg_fill_pattern *p, kg_dtype dtype, const double *values,
                              size_t count)
{
    p->dtype = dtype;
    p->pool_count = 0;
    size_t size = kg_dtype_size(dtype);
    for (size_t i = 0; i < count && p->pool_count < KG_FILL_POOL_MAX; i++) {
        if (!isfinite(values[i]) || size > 4)
            continue;
        /* Each value moved by up to 3% (a fixed pseudo-random amount): the
         * pool keeps the answers' scale and sign, yet where every answer is
         * the same (a softmax over one column is all ones) the fill is
         * still not the answer, so an element left unwritten shows. */
        double jitter = 0.01 + 0.02 * (double)(kg_fill_hash((uint32_t)i, 0x6a177e5u, 7u) >> 8) /
                                   (double)(1u << 24);
        double v = values[i] * (1.0 + ((i & 1) ? jitter : -jitter));
        /* Integers (ids, counts): a relative move truncates back to the
         * same value for small ones, so move by -1, +1, -2, +2, ... in
         * turn: even where every answer is the same, neighbours differ and
         * none is the answer. */
        if (!kg_dtype_is_float(dtype))
            v = values[i] + ((i & 1) ? 1.0 : -1.0) * (double)(1 + ((i >> 1) & 1));
        unsigned char bytes[8] = {0};
        kg_dtype_store(dtype, bytes, 0, v);
        uint32_t bits = 0;
        memcpy(&bits, bytes, size);
        p->pool[p->pool_count++] = bits;
    }
    /* Neighbours in the pool differ, the last and the first included (a
     * shifted fill, kg_fill_seed_shifted, then differs from the unshifted
     * one in every element): a repeat gets one of its two lowest bits
     * flipped, a change no check can tell. */
    /* An integer's lowest bits are its value: there, flip bits 2 and 3
     * (a move of 4 or more, past every answer the moves above came near). */
    size_t n = p->pool_count;
    uint32_t unit = kg_dtype_is_float(dtype) ? 1u : 4u;
    for (size_t i = 1; i < n; i++)
        if (p->pool[i] == p->pool[i - 1])
            p->pool[i] ^= unit;
    for (uint32_t flip = unit; n > 2 && p->pool[n - 1] == p->pool[0] && flip <= 3 * unit;
         flip += unit)
        if ((p->pool[n - 1] ^ flip) != p->pool[n - 2] && (p->pool[n - 1] ^ flip) != p->pool[0])
            p->pool[n - 1] ^= flip;
    if (p->pool_count == 0) {
        unsigned char bytes[8] = {0};
        kg_dtype_store(dtype, bytes, 0, 1.0);
        uint32_t bits = 0;
        memcpy(&bits, bytes, size < 4 ? size : 4);
        p->pool[p->pool_count++] = bits;
    }
}

struct kg_output_fill {
    kg_device *dev;
    kg_program *prog;
    kg_kernel *kernel;
    kg_buffer *pool;
    size_t pool_count;
    size_t element_size;
};

void kg_output_fill_free(kg_output_fill *f)
{
    if (!f)
        return;
    if (f->kernel)
        kg_dev_kernel_free(f->kernel);
    if (f->prog)
        kg_dev_program_free(f->prog);
    if (f->pool)
        kg_dev_buffer_free(f->pool);
    free(f);
}

int kg_output_fill_create(kg_device *dev, const kg_fill_pattern *p, kg_output_fill **out,
                          kg_error *err)
{
    *out = NULL;
    size_t size = kg_dtype_size(p->dtype);
    if (size != 1 && size != 2 && size != 4)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "no output fill for %zu-byte elements", size);
    kg_output_fill *f = calloc(1, sizeof *f);
    if (!f)
        return kg_error_set(err, KG_ERR_MEMORY, "out of memory");
    f->dev = dev;
    f->element_size = size;
    f->pool_count = p->pool_count;
    kg_build_request req = {.language = KG_LANG_PORTABLE,
                            .source = kg_output_fill_kc,
                            .source_size = strlen(kg_output_fill_kc),
                            .source_name = "kgrade-output-fill.kc"};
    const char *entry = size == 1 ? "kg_fill_u8" : size == 2 ? "kg_fill_u16" : "kg_fill_u32";
    int rc = kg_dev_program_build(dev, &req, &f->prog, NULL, err);
    if (!rc)
        rc = kg_dev_kernel_create(f->prog, entry, &f->kernel, err);
    if (!rc)
        rc = kg_dev_buffer_alloc(dev, p->pool_count * sizeof(uint32_t), &f->pool, err);
    if (!rc)
        rc = kg_dev_buffer_write(dev, f->pool, 0, p->pool, p->pool_count * sizeof(uint32_t), err);
    if (rc) {
        kg_output_fill_free(f);
        return rc;
    }
    *out = f;
    return KG_OK;
}

int kg_output_fill_run(kg_output_fill *f, kg_buffer *buf, size_t count, uint64_t seed,
                       kg_error *err)
{
    if (count == 0)
        return KG_OK;
    if (count > 0x7fffffffu)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "output of %zu elements is too large to fill",
                            count);
    uint32_t s0 = (uint32_t)seed, s1 = (uint32_t)(seed >> 32);
    int32_t s0i, s1i;
    memcpy(&s0i, &s0, sizeof s0i);
    memcpy(&s1i, &s1, sizeof s1i);
    kg_arg args[6] = {kg_arg_buffer(buf),     kg_arg_i32((int32_t)count),
                      kg_arg_buffer(f->pool), kg_arg_i32((int32_t)f->pool_count),
                      kg_arg_i32(s0i),        kg_arg_i32(s1i)};
    uint64_t groups = (count + 255) / 256;
    if (groups > 1024)
        groups = 1024;
    kg_launch l = {.grid = {groups, 1, 1}, .block = {256, 1, 1}, .args = args, .arg_count = 6};
    int rc = kg_dev_launch(f->dev, f->kernel, &l, err);
    return rc ? rc : kg_dev_synchronize(f->dev, err);
}
