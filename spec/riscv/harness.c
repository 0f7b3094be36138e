/* A freestanding host for wasm code compiled by `wamr-rs aot --format
 * object`, for running spec-derived modules under qemu user emulation.
 *
 * The including file defines, before including this one:
 *   - the module's header (symbol prefix `m`) and PAGE_LIMIT (pages);
 *   - `exports[]`: the array-call entries the invocations name;
 *   - `struct invocation { uint16_t func; uint8_t nargs, nresults;
 *     const uint64_t *args; }`, `invocations[]` and INVOCATION_COUNT.
 * It builds the instance from the header (memory, table, globals, function
 * slots, segments), implements the builtins and every helper in plain C,
 * runs each invocation and prints `ok <hex result>...` or `trap <code>`
 * per line. No libc: Linux system calls directly, libgcc for the
 * arithmetic the target lacks. */

#include <stdint.h>
#include <stddef.h>

/* ---- Output and exit through raw Linux system calls ---- */

static long syscall3(long n, long a, long b, long c) {
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

static char out_buf[4096];
static size_t out_len;

static void flush(void) {
    size_t done = 0;
    while (done < out_len) {
        long n = syscall3(64 /* write */, 1, (long)(out_buf + done), (long)(out_len - done));
        if (n <= 0) break;
        done += (size_t)n;
    }
    out_len = 0;
}

static void put(char c) {
    if (out_len == sizeof out_buf) flush();
    out_buf[out_len++] = c;
}

static void put_str(const char *s) {
    while (*s) put(*s++);
}

static void put_hex(uint64_t v) {
    for (int shift = 60; shift >= 0; shift -= 4) put("0123456789abcdef"[(v >> shift) & 15]);
}

static void put_dec(uint64_t v) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) put(digits[--n]);
}

static void __attribute__((noreturn)) exit_with(int code) {
    flush();
    syscall3(93 /* exit */, code, 0, 0);
    for (;;) {
    }
}

/* The compiler may emit calls to these for struct copies and zeroing. */
void *memset(void *dst, int c, size_t n) {
    volatile uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

/* ---- Helpers: bit patterns in, bit patterns out ---- */

static float f32_of(uint32_t b) { union { uint32_t u; float f; } x = {b}; return x.f; }
static double f64_of(uint64_t b) { union { uint64_t u; double f; } x = {b}; return x.f; }
static uint32_t bits_f32(float f) { union { float f; uint32_t u; } x = {f}; return x.u; }
static uint64_t bits_f64(double f) { union { double f; uint64_t u; } x = {f}; return x.u; }
static int nan32(uint32_t b) { return (b & 0x7fffffffu) > 0x7f800000u; }
static int nan64(uint64_t b) { return (b & 0x7fffffffffffffffull) > 0x7ff0000000000000ull; }
static uint32_t quiet32(uint32_t b) { return nan32(b) ? b | 0x00400000u : b; }
static uint64_t quiet64(uint64_t b) { return nan64(b) ? b | 0x0008000000000000ull : b; }

static uint32_t h_i32_mul(uint32_t a, uint32_t b) { return a * b; }
static uint32_t h_i32_div_s(uint32_t a, uint32_t b) {
    if (b == 0) return 0;
    if (a == 0x80000000u && b == 0xffffffffu) return a;
    return (uint32_t)((int32_t)a / (int32_t)b);
}
static uint32_t h_i32_div_u(uint32_t a, uint32_t b) { return b ? a / b : 0; }
static uint32_t h_i32_rem_s(uint32_t a, uint32_t b) { return b && b != 0xffffffffu ? (uint32_t)((int32_t)a % (int32_t)b) : 0; }
static uint32_t h_i32_rem_u(uint32_t a, uint32_t b) { return b ? a % b : 0; }
static uint64_t h_i64_mul(uint64_t a, uint64_t b) { return a * b; }
static uint64_t h_i64_div_s(uint64_t a, uint64_t b) {
    if (b == 0) return 0;
    if (a == 0x8000000000000000ull && b == ~0ull) return a;
    return (uint64_t)((int64_t)a / (int64_t)b);
}
static uint64_t h_i64_div_u(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static uint64_t h_i64_rem_s(uint64_t a, uint64_t b) { return b && b != ~0ull ? (uint64_t)((int64_t)a % (int64_t)b) : 0; }
static uint64_t h_i64_rem_u(uint64_t a, uint64_t b) { return b ? a % b : 0; }

static uint64_t clz(uint64_t v, int bits) {
    uint64_t n = 0;
    for (int i = bits - 1; i >= 0 && !((v >> i) & 1); i--) n++;
    return n;
}
static uint64_t ctz(uint64_t v, int bits) {
    uint64_t n = 0;
    for (int i = 0; i < bits && !((v >> i) & 1); i++) n++;
    return n;
}
static uint64_t popcnt(uint64_t v) {
    uint64_t n = 0;
    for (; v; v >>= 1) n += v & 1;
    return n;
}
static uint32_t h_i32_clz(uint32_t a) { return (uint32_t)clz(a, 32); }
static uint32_t h_i32_ctz(uint32_t a) { return (uint32_t)ctz(a, 32); }
static uint32_t h_i32_popcnt(uint32_t a) { return (uint32_t)popcnt(a); }
static uint64_t h_i64_clz(uint64_t a) { return clz(a, 64); }
static uint64_t h_i64_ctz(uint64_t a) { return ctz(a, 64); }
static uint64_t h_i64_popcnt(uint64_t a) { return popcnt(a); }

/* Correctly rounded square root (no libm here): the integer square root
 * of the significand scaled by 2^54, one result bit per step, with the
 * last bit as guard and the remainder as sticky bit. 64-bit integers only:
 * the remainder stays below 2^57. */
static double sqrt_f64(double x) {
    uint64_t b = bits_f64(x);
    if (nan64(b)) return f64_of(quiet64(b));
    if (x == 0) return x;
    if (x < 0) return f64_of(0x7ff8000000000000ull);
    if (b == 0x7ff0000000000000ull) return x;
    int e = (int)((b >> 52) & 0x7ff);
    uint64_t m = b & 0x000fffffffffffffull;
    if (e == 0) { /* subnormal: normalise */
        e = 1;
        while (!(m & 0x0010000000000000ull)) { m <<= 1; e--; }
    } else {
        m |= 0x0010000000000000ull;
    }
    e -= 1023;
    if (e & 1) { m <<= 1; e--; }
    /* m in [2^52, 2^54): 27 bit pairs, then 27 pairs of zeros. */
    uint64_t root = 0, rem = 0;
    for (int i = 0; i < 54; i++) {
        uint64_t pair = i < 27 ? (m >> (52 - 2 * i)) & 3 : 0;
        rem = (rem << 2) | pair;
        uint64_t trial = (root << 2) | 1;
        root <<= 1;
        if (rem >= trial) { rem -= trial; root |= 1; }
    }
    uint64_t sig = root >> 1;
    if ((root & 1) && (rem != 0 || (sig & 1))) sig++;
    e /= 2;
    if (sig >> 53) { sig >>= 1; e++; }
    return f64_of(((uint64_t)(e + 1023) << 52) | (sig & 0x000fffffffffffffull));
}

static float sqrt_f32(float x) {
    /* Correctly rounded through double: the double result has over twice
     * the precision, so rounding it to float is exact rounding. */
    return (float)sqrt_f64((double)x);
}

/* Round to an integer in the current (nearest-even) mode by adding and
 * subtracting 2^52 (2^23); exact for every |x| below that. */
static double nearest_f64(double x) {
    const double big = 4503599627370496.0;
    double a = x < 0 ? -x : x;
    if (!(a < big)) return f64_of(quiet64(bits_f64(x)));
    volatile double t = a + big;
    double r = t - big;
    r = x < 0 ? -r : r;
    return f64_of((bits_f64(r) & 0x7fffffffffffffffull) | (bits_f64(x) & 0x8000000000000000ull));
}
static double floor_f64(double x) {
    double n = nearest_f64(x);
    if (n > x) n = n - 1.0;
    return n == 0 ? f64_of(bits_f64(x) & 0x8000000000000000ull) : n;
}
static double ceil_f64(double x) {
    double n = nearest_f64(x);
    if (n < x) n = n + 1.0;
    return n == 0 ? f64_of(bits_f64(x) & 0x8000000000000000ull) : n;
}
static double trunc_f64(double x) { return x < 0 ? ceil_f64(x) : floor_f64(x); }

static float nearest_f32(float x) {
    const float big = 8388608.0f;
    float a = x < 0 ? -x : x;
    if (!(a < big)) return f32_of(quiet32(bits_f32(x)));
    volatile float t = a + big;
    float r = t - big;
    r = x < 0 ? -r : r;
    return f32_of((bits_f32(r) & 0x7fffffffu) | (bits_f32(x) & 0x80000000u));
}
static float floor_f32(float x) {
    float n = nearest_f32(x);
    if (n > x) n = n - 1.0f;
    return n == 0 ? f32_of(bits_f32(x) & 0x80000000u) : n;
}
static float ceil_f32(float x) {
    float n = nearest_f32(x);
    if (n < x) n = n + 1.0f;
    return n == 0 ? f32_of(bits_f32(x) & 0x80000000u) : n;
}
static float trunc_f32(float x) { return x < 0 ? ceil_f32(x) : floor_f32(x); }

static uint32_t min32(uint32_t a, uint32_t b) {
    if (nan32(a) || nan32(b)) return quiet32(nan32(a) ? a : b);
    float x = f32_of(a), y = f32_of(b);
    if (x == y) return a | b;
    return x < y ? a : b;
}
static uint32_t max32(uint32_t a, uint32_t b) {
    if (nan32(a) || nan32(b)) return quiet32(nan32(a) ? a : b);
    float x = f32_of(a), y = f32_of(b);
    if (x == y) return a & b;
    return x > y ? a : b;
}
static uint64_t min64(uint64_t a, uint64_t b) {
    if (nan64(a) || nan64(b)) return quiet64(nan64(a) ? a : b);
    double x = f64_of(a), y = f64_of(b);
    if (x == y) return a | b;
    return x < y ? a : b;
}
static uint64_t max64(uint64_t a, uint64_t b) {
    if (nan64(a) || nan64(b)) return quiet64(nan64(a) ? a : b);
    double x = f64_of(a), y = f64_of(b);
    if (x == y) return a & b;
    return x > y ? a : b;
}

static uint32_t h_f32_add(uint32_t a, uint32_t b) { return bits_f32(f32_of(a) + f32_of(b)); }
static uint32_t h_f32_sub(uint32_t a, uint32_t b) { return bits_f32(f32_of(a) - f32_of(b)); }
static uint32_t h_f32_mul(uint32_t a, uint32_t b) { return bits_f32(f32_of(a) * f32_of(b)); }
static uint32_t h_f32_div(uint32_t a, uint32_t b) { return bits_f32(f32_of(a) / f32_of(b)); }
static uint32_t h_f32_sqrt(uint32_t a) { return bits_f32(sqrt_f32(f32_of(a))); }
static uint32_t h_f32_min(uint32_t a, uint32_t b) { return min32(a, b); }
static uint32_t h_f32_max(uint32_t a, uint32_t b) { return max32(a, b); }
static uint32_t h_f32_ceil(uint32_t a) { return bits_f32(ceil_f32(f32_of(a))); }
static uint32_t h_f32_floor(uint32_t a) { return bits_f32(floor_f32(f32_of(a))); }
static uint32_t h_f32_trunc(uint32_t a) { return bits_f32(trunc_f32(f32_of(a))); }
static uint32_t h_f32_nearest(uint32_t a) { return bits_f32(nearest_f32(f32_of(a))); }
static uint32_t h_f32_eq(uint32_t a, uint32_t b) { return f32_of(a) == f32_of(b); }
static uint32_t h_f32_lt(uint32_t a, uint32_t b) { return f32_of(a) < f32_of(b); }
static uint32_t h_f32_le(uint32_t a, uint32_t b) { return f32_of(a) <= f32_of(b); }
static uint32_t h_f32_unord(uint32_t a, uint32_t b) { return nan32(a) || nan32(b); }

static uint64_t h_f64_add(uint64_t a, uint64_t b) { return bits_f64(f64_of(a) + f64_of(b)); }
static uint64_t h_f64_sub(uint64_t a, uint64_t b) { return bits_f64(f64_of(a) - f64_of(b)); }
static uint64_t h_f64_mul(uint64_t a, uint64_t b) { return bits_f64(f64_of(a) * f64_of(b)); }
static uint64_t h_f64_div(uint64_t a, uint64_t b) { return bits_f64(f64_of(a) / f64_of(b)); }
static uint64_t h_f64_sqrt(uint64_t a) { return bits_f64(sqrt_f64(f64_of(a))); }
static uint64_t h_f64_min(uint64_t a, uint64_t b) { return min64(a, b); }
static uint64_t h_f64_max(uint64_t a, uint64_t b) { return max64(a, b); }
static uint64_t h_f64_ceil(uint64_t a) { return bits_f64(ceil_f64(f64_of(a))); }
static uint64_t h_f64_floor(uint64_t a) { return bits_f64(floor_f64(f64_of(a))); }
static uint64_t h_f64_trunc(uint64_t a) { return bits_f64(trunc_f64(f64_of(a))); }
static uint64_t h_f64_nearest(uint64_t a) { return bits_f64(nearest_f64(f64_of(a))); }
static uint32_t h_f64_eq(uint64_t a, uint64_t b) { return f64_of(a) == f64_of(b); }
static uint32_t h_f64_lt(uint64_t a, uint64_t b) { return f64_of(a) < f64_of(b); }
static uint32_t h_f64_le(uint64_t a, uint64_t b) { return f64_of(a) <= f64_of(b); }
static uint32_t h_f64_unord(uint64_t a, uint64_t b) { return nan64(a) || nan64(b); }

static uint64_t h_f64_promote_f32(uint32_t a) { return nan32(a) ? quiet64(bits_f64((double)f32_of(a))) : bits_f64((double)f32_of(a)); }
static uint32_t h_f32_demote_f64(uint64_t a) { return bits_f32((float)f64_of(a)); }

/* Saturating conversions, NaN to 0. */
static uint32_t h_i32_trunc_sat_f64_s(uint64_t a) {
    double x = f64_of(a);
    if (nan64(a)) return 0;
    if (x <= -2147483649.0) return 0x80000000u;
    if (x >= 2147483648.0) return 0x7fffffffu;
    return (uint32_t)(int32_t)x;
}
static uint32_t h_i32_trunc_sat_f64_u(uint64_t a) {
    double x = f64_of(a);
    if (!(x > -1.0)) return 0;
    if (x >= 4294967296.0) return 0xffffffffu;
    return (uint32_t)x;
}
static uint64_t h_i64_trunc_sat_f64_s(uint64_t a) {
    double x = f64_of(a);
    if (nan64(a)) return 0;
    if (x < -9223372036854775808.0) return 0x8000000000000000ull;
    if (x >= 9223372036854775808.0) return 0x7fffffffffffffffull;
    return (uint64_t)(int64_t)x;
}
static uint64_t h_i64_trunc_sat_f64_u(uint64_t a) {
    double x = f64_of(a);
    if (!(x > -1.0)) return 0;
    if (x >= 18446744073709551616.0) return ~0ull;
    return (uint64_t)x;
}
static uint32_t h_i32_trunc_sat_f32_s(uint32_t a) { return h_i32_trunc_sat_f64_s(bits_f64((double)f32_of(a))); }
static uint32_t h_i32_trunc_sat_f32_u(uint32_t a) { return h_i32_trunc_sat_f64_u(bits_f64((double)f32_of(a))); }
static uint64_t h_i64_trunc_sat_f32_s(uint32_t a) { return h_i64_trunc_sat_f64_s(bits_f64((double)f32_of(a))); }
static uint64_t h_i64_trunc_sat_f32_u(uint32_t a) { return h_i64_trunc_sat_f64_u(bits_f64((double)f32_of(a))); }

static uint32_t h_f32_convert_i32_s(uint32_t a) { return bits_f32((float)(int32_t)a); }
static uint32_t h_f32_convert_i32_u(uint32_t a) { return bits_f32((float)a); }
static uint32_t h_f32_convert_i64_s(uint64_t a) { return bits_f32((float)(int64_t)a); }
static uint32_t h_f32_convert_i64_u(uint64_t a) { return bits_f32((float)a); }
static uint64_t h_f64_convert_i32_s(uint32_t a) { return bits_f64((double)(int32_t)a); }
static uint64_t h_f64_convert_i32_u(uint32_t a) { return bits_f64((double)a); }
static uint64_t h_f64_convert_i64_s(uint64_t a) { return bits_f64((double)(int64_t)a); }
static uint64_t h_f64_convert_i64_u(uint64_t a) { return bits_f64((double)a); }

/* Fused multiply-add rounded once, without libm: the exact product as a
 * 128-bit integer, the addend aligned to it (bits shifted out kept as a
 * sticky bit), the sum rounded to nearest even. 128-bit integers as two
 * halves: riscv32 has no __int128. */
struct u128 { uint64_t hi, lo; };

static struct u128 shl128(struct u128 x, int n) {
    if (n == 0) return x;
    if (n >= 64) return (struct u128){x.lo << (n - 64), 0};
    return (struct u128){(x.hi << n) | (x.lo >> (64 - n)), x.lo << n};
}
static struct u128 shr128(struct u128 x, int n) {
    if (n == 0) return x;
    if (n >= 64) return (struct u128){0, x.hi >> (n - 64)};
    return (struct u128){x.hi >> n, (x.lo >> n) | (x.hi << (64 - n))};
}
static int eq128(struct u128 a, struct u128 b) { return a.hi == b.hi && a.lo == b.lo; }
static int lt128(struct u128 a, struct u128 b) { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); }
static struct u128 add128(struct u128 a, struct u128 b) {
    uint64_t lo = a.lo + b.lo;
    return (struct u128){a.hi + b.hi + (lo < a.lo), lo};
}
static struct u128 sub128(struct u128 a, struct u128 b) {
    return (struct u128){a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
}
/* Shifts right by n, setting bit 0 if a 1 bit is lost. */
static struct u128 shr128_sticky(struct u128 x, int n) {
    if (n >= 128) return (struct u128){0, (x.hi | x.lo) != 0};
    struct u128 r = shr128(x, n);
    r.lo |= !eq128(shl128(r, n), x);
    return r;
}
static int msb128(struct u128 x) {
    return x.hi ? 127 - (int)clz(x.hi, 64) : 63 - (int)clz(x.lo, 64);
}
static struct u128 mul64x64(uint64_t a, uint64_t b) {
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    return (struct u128){p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32), (mid << 32) | (uint32_t)p00};
}
/* r with its bits below bit `cut` rounded off to nearest even. */
static uint64_t round_at(struct u128 r, int cut) {
    if (cut <= 0) return shl128(r, -cut).lo;
    if (cut > 128) return 0; /* below half of the last place */
    struct u128 kept = cut == 128 ? (struct u128){0, 0} : shr128(r, cut);
    struct u128 rest = cut == 128 ? r : sub128(r, shl128(kept, cut));
    struct u128 half = shl128((struct u128){0, 1}, cut - 1);
    uint64_t m = kept.lo;
    if (lt128(half, rest) || (eq128(rest, half) && (m & 1))) m++;
    return m;
}
/* A finite nonzero double as significand * 2^exponent. */
static uint64_t unpack64(uint64_t b, int *e) {
    int biased = (int)((b >> 52) & 0x7ff);
    uint64_t m = b & 0x000fffffffffffffull;
    if (biased == 0) { *e = -1074; return m; }
    *e = biased - 1075;
    return m | 0x0010000000000000ull;
}

static uint64_t h_f64_fma(uint64_t a, uint64_t b, uint64_t c) {
    double x = f64_of(a), y = f64_of(b), z = f64_of(c);
    int special = ((a >> 52) & 0x7ff) == 0x7ff || ((b >> 52) & 0x7ff) == 0x7ff;
    /* Infinities, NaNs and zero products: nothing to round but the sum. */
    if (special || x == 0 || y == 0) return bits_f64(x * y + z);
    if (((c >> 52) & 0x7ff) == 0x7ff) return quiet64(c);
    /* The exact result is the nonzero product: one rounding, its sign. */
    if (z == 0) return bits_f64(x * y);
    int ex, ey, ez;
    uint64_t mx = unpack64(a, &ex), my = unpack64(b, &ey), mz = unpack64(c, &ez);
    uint64_t sp = (a ^ b) >> 63, sq = c >> 63;
    /* Both terms with their top bit at 125: headroom for a carry. */
    struct u128 p = mul64x64(mx, my), q = {0, mz};
    int shift = 125 - msb128(p);
    p = shl128(p, shift);
    int ep = ex + ey - shift;
    shift = 125 - msb128(q);
    q = shl128(q, shift);
    int eq = ez - shift;
    if (ep < eq) {
        struct u128 t = p; p = q; q = t;
        int te = ep; ep = eq; eq = te;
        uint64_t ts = sp; sp = sq; sq = ts;
    }
    /* Exact up to 20 places (the trailing zeros of both); beyond, the sum
     * keeps its top bit within one place of 125, far above the sticky bit. */
    q = shr128_sticky(q, ep - eq);
    struct u128 r;
    uint64_t sign = sp;
    if (sp == sq) {
        r = add128(p, q);
    } else if (lt128(p, q)) {
        r = sub128(q, p);
        sign = sq;
    } else {
        r = sub128(p, q);
    }
    if (r.hi == 0 && r.lo == 0) return 0; /* exact cancellation: +0 */
    /* r * 2^ep to 53 bits, or to the subnormal places 2^-1074 and up. */
    int exponent = msb128(r) + ep;
    if (exponent < -1022) return (sign << 63) | round_at(r, -1074 - ep);
    uint64_t m = round_at(r, msb128(r) - 52);
    if (m >> 53) { m >>= 1; exponent++; }
    if (exponent > 1023) return (sign << 63) | 0x7ff0000000000000ull;
    return (sign << 63) | ((uint64_t)(exponent + 1023) << 52) | (m & 0x000fffffffffffffull);
}

/* Fills only the slots the header lists: a helper the code calls without
 * the compiler having recorded it is a null call, and the run fails. */
static void fill_helpers(struct wamr_builtins *listed) {
    static struct wamr_builtins all;
    struct wamr_builtins *b = &all;
#define SET(NAME, fn) b->helpers[WAMR_HELPER_##NAME].p = (void *)fn
    SET(I32_MUL, h_i32_mul); SET(I32_DIV_S, h_i32_div_s); SET(I32_DIV_U, h_i32_div_u);
    SET(I32_REM_S, h_i32_rem_s); SET(I32_REM_U, h_i32_rem_u);
    SET(I64_MUL, h_i64_mul); SET(I64_DIV_S, h_i64_div_s); SET(I64_DIV_U, h_i64_div_u);
    SET(I64_REM_S, h_i64_rem_s); SET(I64_REM_U, h_i64_rem_u);
    SET(I32_CLZ, h_i32_clz); SET(I32_CTZ, h_i32_ctz); SET(I32_POPCNT, h_i32_popcnt);
    SET(I64_CLZ, h_i64_clz); SET(I64_CTZ, h_i64_ctz); SET(I64_POPCNT, h_i64_popcnt);
    SET(F32_ADD, h_f32_add); SET(F32_SUB, h_f32_sub); SET(F32_MUL, h_f32_mul); SET(F32_DIV, h_f32_div);
    SET(F32_SQRT, h_f32_sqrt); SET(F32_MIN, h_f32_min); SET(F32_MAX, h_f32_max);
    SET(F32_CEIL, h_f32_ceil); SET(F32_FLOOR, h_f32_floor); SET(F32_TRUNC, h_f32_trunc);
    SET(F32_NEAREST, h_f32_nearest); SET(F32_EQ, h_f32_eq); SET(F32_LT, h_f32_lt);
    SET(F32_LE, h_f32_le); SET(F32_UNORD, h_f32_unord);
    SET(F64_ADD, h_f64_add); SET(F64_SUB, h_f64_sub); SET(F64_MUL, h_f64_mul); SET(F64_DIV, h_f64_div);
    SET(F64_SQRT, h_f64_sqrt); SET(F64_MIN, h_f64_min); SET(F64_MAX, h_f64_max);
    SET(F64_CEIL, h_f64_ceil); SET(F64_FLOOR, h_f64_floor); SET(F64_TRUNC, h_f64_trunc);
    SET(F64_NEAREST, h_f64_nearest); SET(F64_EQ, h_f64_eq); SET(F64_LT, h_f64_lt);
    SET(F64_LE, h_f64_le); SET(F64_UNORD, h_f64_unord);
    SET(F64_PROMOTE_F32, h_f64_promote_f32); SET(F32_DEMOTE_F64, h_f32_demote_f64);
    SET(I32_TRUNC_SAT_F32_S, h_i32_trunc_sat_f32_s); SET(I32_TRUNC_SAT_F32_U, h_i32_trunc_sat_f32_u);
    SET(I32_TRUNC_SAT_F64_S, h_i32_trunc_sat_f64_s); SET(I32_TRUNC_SAT_F64_U, h_i32_trunc_sat_f64_u);
    SET(I64_TRUNC_SAT_F32_S, h_i64_trunc_sat_f32_s); SET(I64_TRUNC_SAT_F32_U, h_i64_trunc_sat_f32_u);
    SET(I64_TRUNC_SAT_F64_S, h_i64_trunc_sat_f64_s); SET(I64_TRUNC_SAT_F64_U, h_i64_trunc_sat_f64_u);
    SET(F32_CONVERT_I32_S, h_f32_convert_i32_s); SET(F32_CONVERT_I32_U, h_f32_convert_i32_u);
    SET(F32_CONVERT_I64_S, h_f32_convert_i64_s); SET(F32_CONVERT_I64_U, h_f32_convert_i64_u);
    SET(F64_CONVERT_I32_S, h_f64_convert_i32_s); SET(F64_CONVERT_I32_U, h_f64_convert_i32_u);
    SET(F64_CONVERT_I64_S, h_f64_convert_i64_s); SET(F64_CONVERT_I64_U, h_f64_convert_i64_u);
    SET(F64_FMA, h_f64_fma);
#undef SET
    for (unsigned i = 0; i < M_HELPER_COUNT; i++) listed->helpers[m_helpers[i]] = all.helpers[m_helpers[i]];
}

/* ---- The instance ---- */

#define PAGE 65536u
#define TABLE_LIMIT 1024u

static uint8_t heap[PAGE_LIMIT * PAGE] __attribute__((aligned(16)));
static uint64_t max_pages;
static struct wamr_memory memory;
static wamr_cell memory_cells[1];
static uint64_t table_elems[M_TABLE_COUNT ? M_TABLE_COUNT : 1][TABLE_LIMIT];
static struct wamr_table tables[M_TABLE_COUNT ? M_TABLE_COUNT : 1];
static wamr_cell table_cells[M_TABLE_COUNT ? M_TABLE_COUNT : 1];
static struct wamr_global globals[M_GLOBAL_COUNT ? M_GLOBAL_COUNT : 1];
static wamr_cell global_cells[M_GLOBAL_COUNT ? M_GLOBAL_COUNT : 1];
static struct wamr_funcref funcrefs[M_FUNC_COUNT ? M_FUNC_COUNT : 1];
static wamr_cell func_cells[M_FUNC_COUNT ? M_FUNC_COUNT : 1];
static struct wamr_builtins builtins;
static struct wamr_store_state state;
static struct wamr_vmctx vm;

static void fail(const char *why) {
    put_str("harness error: ");
    put_str(why);
    put('\n');
    exit_with(2);
}

static uint64_t b_memory_grow(struct wamr_vmctx *ctx, uint32_t index, uint64_t delta) {
    (void)ctx;
    (void)index;
    uint64_t old = memory.length / PAGE;
    if (delta > max_pages - old) return UINT64_MAX;
    memory.length += delta * PAGE;
    return old;
}

static void b_raise_trap(struct wamr_vmctx *ctx, uint32_t kind, uint32_t func) {
    (void)ctx;
    (void)func;
    if (kind) state.trap = kind;
}

static void b_call_func(struct wamr_vmctx *ctx, const struct wamr_funcref *f, uint64_t *values) {
    (void)ctx;
    (void)f;
    (void)values;
    state.trap = WAMR_TRAP_HOST;
}

static uint64_t b_bulk(struct wamr_vmctx *ctx, uint32_t op, uint32_t x, uint32_t y,
                       uint64_t a, uint64_t b, uint64_t c) {
    (void)ctx;
    (void)x;
    (void)y;
    switch (op) {
    case WAMR_BULK_MEMORY_FILL:
        if (a > memory.length || c > memory.length - a) break;
        memset(heap + a, (int)b, (size_t)c);
        return 0;
    case WAMR_BULK_MEMORY_COPY:
        if (a > memory.length || c > memory.length - a || b > memory.length || c > memory.length - b) break;
        memmove(heap + a, heap + b, (size_t)c);
        return 0;
    case WAMR_BULK_TABLE_SIZE:
        return tables[x].length;
    default:
        state.trap = WAMR_TRAP_HOST;
        return 0;
    }
    state.trap = WAMR_TRAP_MEMORY_OUT_OF_BOUNDS;
    return 0;
}

static void instantiate(uintptr_t stack_top) {
    if (M_MEMORY_COUNT > 1 || M_IMPORTED_FUNC_COUNT > 0) fail("unsupported module shape");
    if (M_MEMORY_COUNT == 1) {
        max_pages = m_memories[0].max_pages;
        if (max_pages > PAGE_LIMIT) max_pages = PAGE_LIMIT;
        if (m_memories[0].min_pages > max_pages) fail("memory minimum over the limit");
        memory.base.p = heap;
        memory.length = m_memories[0].min_pages * PAGE;
        memory_cells[0].p = &memory;
    }
    for (uint32_t i = 0; i < M_FUNC_COUNT; i++) {
        funcrefs[i].code.p = (void *)m_natives[i];
        funcrefs[i].array_call.p = (void *)m_trampolines[i];
        funcrefs[i].type_id = m_func_type_ids[i];
        funcrefs[i].func_id = i;
        funcrefs[i].vmctx.p = &vm;
        func_cells[i].p = &funcrefs[i];
    }
    for (uint32_t t = 0; t < M_TABLE_COUNT; t++) {
        if (m_tables[t].min > TABLE_LIMIT) fail("table over the limit");
        tables[t].base.p = table_elems[t];
        tables[t].length = m_tables[t].min;
        table_cells[t].p = &tables[t];
    }
    for (uint32_t g = 0; g < M_GLOBAL_COUNT; g++) {
        globals[g].bits[0] = m_globals[g].bits[0];
        globals[g].bits[1] = m_globals[g].bits[1];
        if (m_globals[g].func >= 0) globals[g].bits[0] = (uint64_t)(uintptr_t)&funcrefs[m_globals[g].func];
        global_cells[g].p = &globals[g];
    }
    for (uint32_t e = 0; e < M_ELEM_COUNT; e++) {
        const struct wamr_elem_init *seg = &m_elems[e];
        if (seg->length == 0) continue;
        if (seg->offset + seg->length > tables[seg->table].length) fail("element segment out of bounds");
        for (size_t i = 0; i < seg->length; i++) {
            int32_t f = seg->funcs[i];
            table_elems[seg->table][seg->offset + i] = f < 0 ? 0 : (uint64_t)(uintptr_t)&funcrefs[f];
        }
    }
    for (uint32_t d = 0; d < M_DATA_COUNT; d++) {
        const struct wamr_data_init *seg = &m_data[d];
        if (seg->length == 0) continue;
        if (seg->offset + seg->length > memory.length) fail("data segment out of bounds");
        memcpy(heap + seg->offset, seg->bytes, seg->length);
    }
    builtins.memory_grow.p = (void *)b_memory_grow;
    builtins.raise_trap.p = (void *)b_raise_trap;
    builtins.call_func.p = (void *)b_call_func;
    builtins.bulk.p = (void *)b_bulk;
    fill_helpers(&builtins);
    /* Compiled code traps with stack overflow below this address. */
    state.stack_limit = stack_top - 2u * 1024 * 1024;
    vm.memories.p = memory_cells;
    vm.tables.p = table_cells;
    vm.globals.p = global_cells;
    vm.funcs.p = func_cells;
    vm.type_ids.p = (void *)m_type_ids;
    vm.builtins.p = &builtins;
    vm.state.p = &state;
}

static int run(void) {
    volatile char top;
    instantiate((uintptr_t)&top);
    for (size_t i = 0; i < INVOCATION_COUNT; i++) {
        const struct invocation *inv = &invocations[i];
        uint64_t values[64] = {0};
        for (unsigned a = 0; a < inv->nargs; a++) values[a] = inv->args[a];
        exports[inv->func](&vm, values);
        if (state.trap) {
            put_str("trap ");
            put_dec(state.trap);
            state.trap = 0;
        } else {
            put_str("ok");
            for (unsigned r = 0; r < inv->nresults; r++) {
                put(' ');
                put_hex(values[r]);
            }
        }
        put('\n');
    }
    return 0;
}

void __attribute__((noreturn)) _start(void) {
    exit_with(run());
}
