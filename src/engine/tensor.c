#include "engine/tensor.h"

#include <stdio.h>
#include <string.h>

size_t dt_dtype_size(dt_dtype t)
{
    switch (t) {
    case DT_F32: return 4;
    case DT_F16: return 2;
    case DT_I64: return 8;
    case DT_I32: return 4;
    case DT_U8: return 1;
    case DT_I8: return 1;
    case DT_BOOL: return 1;
    case DT_F64: return 8;
    default: return 0;
    }
}

const char *dt_dtype_name(dt_dtype t)
{
    switch (t) {
    case DT_F32: return "float32";
    case DT_F16: return "float16";
    case DT_I64: return "int64";
    case DT_I32: return "int32";
    case DT_U8: return "uint8";
    case DT_I8: return "int8";
    case DT_BOOL: return "bool";
    case DT_F64: return "float64";
    default: return "undefined";
    }
}

int64_t dt_shape_numel(int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return -1;
        if (dims[i] && n > INT64_MAX / dims[i])
            return -1;
        n *= dims[i];
    }
    return n;
}

size_t dt_tensor_nbytes(const dt_tensor *t)
{
    int64_t n = dt_tensor_numel(t);
    size_t es = dt_dtype_size(t->dtype);
    if (n < 0 || !es || (uint64_t)n > SIZE_MAX / es)
        return 0;
    return (size_t)n * es;
}

char *dt_shape_str(int ndim, const int64_t *dims, char *buf, size_t cap)
{
    size_t o = 0;
    if (!cap)
        return buf;
    buf[0] = '\0';
    o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
    buf[cap - 1] = '\0';
    return buf;
}

double dt_tensor_get_f(const dt_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case DT_F32: return ((const float *)t->data)[i];
    case DT_F64: return ((const double *)t->data)[i];
    case DT_F16: return dt_half_to_float(((const uint16_t *)t->data)[i]);
    case DT_I64: return (double)((const int64_t *)t->data)[i];
    case DT_I32: return ((const int32_t *)t->data)[i];
    case DT_U8: return ((const uint8_t *)t->data)[i];
    case DT_I8: return ((const int8_t *)t->data)[i];
    case DT_BOOL: return ((const uint8_t *)t->data)[i] != 0;
    default: return 0;
    }
}

int64_t dt_tensor_get_i(const dt_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case DT_I64: return ((const int64_t *)t->data)[i];
    case DT_I32: return ((const int32_t *)t->data)[i];
    case DT_U8: return ((const uint8_t *)t->data)[i];
    case DT_I8: return ((const int8_t *)t->data)[i];
    case DT_BOOL: return ((const uint8_t *)t->data)[i] != 0;
    default: {
        /* a float index from a model file may be NaN or huge: saturate, never UB */
        double f = dt_tensor_get_f(t, i);
        return f != f ? 0 : f >= 9.2e18 ? INT64_MAX : f <= -9.2e18 ? INT64_MIN : (int64_t)f;
    }
    }
}

float dt_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) {
                mant <<= 1;
                exp--;
            }
            mant &= 0x3ff;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t dt_float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mant = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff)
        return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    if (exp >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10)
            return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
        half++;
    return (uint16_t)half;
}
