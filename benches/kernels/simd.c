/* Hand-written SIMD kernels of the project's own, with <wasm_simd128.h>.
 *
 * Built two ways by benches/kernels/build.sh:
 *   - for wasm32 with -msimd128, freestanding: no libc, no WASI; each kernel
 *     is an export `uint64_t NAME(uint32_t rounds)` that makes its input
 *     from a fixed seed and returns a checksum (simd.wasm, checked in);
 *   - natively, where the same kernels run their plain C loops (the
 *     intrinsics exist only for wasm), and main() prints
 *     `name rounds checksum` lines: the values every tier must reproduce.
 * The vector and the scalar paths compute bit-identical results: integer
 * kernels trivially, the float one by adding in the same order per lane
 * (built with -ffp-contract=off natively, as wasm has no fused add). */
#include <stdint.h>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define VECTOR 1
#define EXPORT(name) __attribute__((export_name(name)))
#else
#define VECTOR 0
#define EXPORT(name)
#endif

static uint32_t rng_state;
static uint32_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* FNV-1a over 64-bit words (`n` a multiple of 8): cheap next to the
 * kernels, so that they, not the checksum, are what is timed. */
static uint64_t fnv(uint64_t h, const uint8_t *p, uint32_t n) {
    for (uint32_t i = 0; i < n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}

enum { BYTES = 1 << 18 };
static uint8_t bytes[BYTES];
static uint8_t out[2 * BYTES];

static void fill_bytes(uint32_t seed) {
    rng_state = seed;
    for (uint32_t i = 0; i < BYTES; i++) bytes[i] = (uint8_t)(rng() >> 7);
}

/* Occurrences of a byte, a different one each round (memchr-style search). */
EXPORT("count_byte") uint64_t count_byte(uint32_t rounds) {
    fill_bytes(1);
    uint64_t total = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        uint8_t needle = (uint8_t)(r * 37 + 11);
        uint32_t count = 0;
#if VECTOR
        v128_t want = wasm_i8x16_splat((int8_t)needle);
        for (uint32_t i = 0; i < BYTES;) {
            /* Lanes count down by one per match; at most 255 steps per block. */
            v128_t acc = wasm_i8x16_splat(0);
            uint32_t end = i + 255 * 16 < BYTES ? i + 255 * 16 : BYTES;
            for (; i < end; i += 16) {
                v128_t eq = wasm_i8x16_eq(wasm_v128_load(bytes + i), want);
                acc = wasm_i8x16_sub(acc, eq);
            }
            v128_t wide = wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(acc));
            count += wasm_i32x4_extract_lane(wide, 0) + wasm_i32x4_extract_lane(wide, 1) +
                     wasm_i32x4_extract_lane(wide, 2) + wasm_i32x4_extract_lane(wide, 3);
        }
#else
        for (uint32_t i = 0; i < BYTES; i++) count += bytes[i] == needle;
#endif
        total = total * 31 + count;
    }
    return total;
}

enum { DOT = 1 << 15 };
static int16_t dot_a[DOT], dot_b[DOT];

/* A dot product of 16-bit vectors (i32x4.dot_i16x8_s). */
EXPORT("dot_i16") uint64_t dot_i16(uint32_t rounds) {
    rng_state = 2;
    for (uint32_t i = 0; i < DOT; i++) {
        dot_a[i] = (int16_t)(rng() % 2001) - 1000;
        dot_b[i] = (int16_t)(rng() % 2001) - 1000;
    }
    uint64_t total = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        dot_a[r % DOT] += 1;
        int64_t dot = 0;
#if VECTOR
        for (uint32_t i = 0; i < DOT; i += 64) {
            v128_t acc = wasm_i32x4_splat(0);
            for (uint32_t j = i; j < i + 64; j += 8)
                acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_v128_load(dot_a + j),
                                                               wasm_v128_load(dot_b + j)));
            dot += (int64_t)wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
                   wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
        }
#else
        for (uint32_t i = 0; i < DOT; i++) dot += (int32_t)dot_a[i] * dot_b[i];
#endif
        total = total * 1000003 + (uint64_t)dot;
    }
    return total;
}

enum { M = 64 };
static float mat_a[M * M], mat_b[M * M], mat_c[M * M];

/* C = A * B in single precision, four columns at a time. */
EXPORT("matmul_f32") uint64_t matmul_f32(uint32_t rounds) {
    rng_state = 3;
    for (uint32_t i = 0; i < M * M; i++) {
        mat_a[i] = (float)(rng() % 2000) / 64.0f - 15.0f;
        mat_b[i] = (float)(rng() % 2000) / 128.0f - 7.0f;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t r = 0; r < rounds; r++) {
        mat_a[r % (M * M)] *= 1.5f;
        for (uint32_t i = 0; i < M; i++) {
#if VECTOR
            for (uint32_t j = 0; j < M; j += 4) {
                v128_t acc = wasm_f32x4_splat(0.0f);
                for (uint32_t k = 0; k < M; k++)
                    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(mat_a[i * M + k]),
                                                             wasm_v128_load(mat_b + k * M + j)));
                wasm_v128_store(mat_c + i * M + j, acc);
            }
#else
            for (uint32_t j = 0; j < M; j++) {
                float acc = 0.0f;
                for (uint32_t k = 0; k < M; k++) acc += mat_a[i * M + k] * mat_b[k * M + j];
                mat_c[i * M + j] = acc;
            }
#endif
        }
        h = fnv(h, (const uint8_t *)mat_c, sizeof mat_c);
    }
    return h;
}

/* Bytes to lowercase hex: nibbles looked up with a swizzle, interleaved
 * with a shuffle. */
EXPORT("hex_encode") uint64_t hex_encode(uint32_t rounds) {
    fill_bytes(4);
    static const char digits[16] = "0123456789abcdef";
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t r = 0; r < rounds; r++) {
        bytes[r % BYTES] ^= 0x5a;
#if VECTOR
        v128_t table = wasm_v128_load(digits);
        v128_t low4 = wasm_i8x16_splat(0x0f);
        for (uint32_t i = 0; i < BYTES; i += 16) {
            v128_t v = wasm_v128_load(bytes + i);
            v128_t hi = wasm_i8x16_swizzle(table, wasm_u8x16_shr(v, 4));
            v128_t lo = wasm_i8x16_swizzle(table, wasm_v128_and(v, low4));
            wasm_v128_store(out + 2 * i,
                            wasm_i8x16_shuffle(hi, lo, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21,
                                               6, 22, 7, 23));
            wasm_v128_store(out + 2 * i + 16,
                            wasm_i8x16_shuffle(hi, lo, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13,
                                               29, 14, 30, 15, 31));
        }
#else
        for (uint32_t i = 0; i < BYTES; i++) {
            out[2 * i] = (uint8_t)digits[bytes[i] >> 4];
            out[2 * i + 1] = (uint8_t)digits[bytes[i] & 15];
        }
#endif
        h = fnv(h, out + (r * 4099) % BYTES, 4096);
    }
    return fnv(h, out, 2 * BYTES);
}

/* Pixels brightened by 3/2 plus 10, saturating at 255: widen to 16 bits,
 * multiply and shift, narrow with unsigned saturation. */
EXPORT("brighten") uint64_t brighten(uint32_t rounds) {
    fill_bytes(5);
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t r = 0; r < rounds; r++) {
        uint8_t bias = (uint8_t)(r % 20);
#if VECTOR
        v128_t three = wasm_i16x8_splat(3);
        v128_t add = wasm_i16x8_splat(bias);
        for (uint32_t i = 0; i < BYTES; i += 16) {
            v128_t v = wasm_v128_load(bytes + i);
            v128_t lo = wasm_u16x8_extend_low_u8x16(v);
            v128_t hi = wasm_u16x8_extend_high_u8x16(v);
            lo = wasm_i16x8_add(wasm_u16x8_shr(wasm_i16x8_mul(lo, three), 1), add);
            hi = wasm_i16x8_add(wasm_u16x8_shr(wasm_i16x8_mul(hi, three), 1), add);
            wasm_v128_store(out + i, wasm_u8x16_narrow_i16x8(lo, hi));
        }
#else
        for (uint32_t i = 0; i < BYTES; i++) {
            uint32_t p = bytes[i] * 3u / 2u + bias;
            out[i] = (uint8_t)(p > 255 ? 255 : p);
        }
#endif
        h = fnv(h, out, BYTES);
    }
    return h;
}

#if !defined(__wasm__)
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    uint32_t rounds = argc > 1 ? (uint32_t)strtoul(argv[1], 0, 10) : 1;
    static const struct {
        const char *name;
        uint64_t (*run)(uint32_t);
    } kernels[] = {{"count_byte", count_byte}, {"dot_i16", dot_i16}, {"matmul_f32", matmul_f32},
                   {"hex_encode", hex_encode}, {"brighten", brighten}};
    for (unsigned k = 0; k < sizeof kernels / sizeof kernels[0]; k++)
        printf("%s %u %llu\n", kernels[k].name, rounds,
               (unsigned long long)kernels[k].run(rounds));
    return 0;
}
#endif
