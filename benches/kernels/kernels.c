/* Small compute kernels of the project's own, built natively and for
 * wasm32-wasi by benches/native.sh to compare compiled wasm with native
 * code, and with -msimd128 to test and time auto-vectorised code. Each
 * kernel times itself (CLOCK_MONOTONIC) and prints `name seconds
 * checksum`; the checksums must agree across builds. Usage:
 * `kernels [name|all] [percent]`: the work is scaled to `percent` of the
 * default (at least one round), so tests can run it in the interpreter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint32_t scale_percent = 100;

/* `n` scaled by the requested percentage, at least 1. */
static uint32_t scaled(uint32_t n) {
    uint64_t m = (uint64_t)n * scale_percent / 100;
    return m ? (uint32_t)m : 1;
}

static uint32_t rng_state = 12345;
static uint32_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static uint64_t crc32_kernel(void) {
    enum { N = 1 << 20 };
    uint8_t *buf = malloc(N);
    for (int i = 0; i < N; i++) buf[i] = (uint8_t)rng();
    uint32_t crc = 0xffffffffu;
    for (uint32_t round = 0; round < scaled(60); round++) {
        for (int i = 0; i < N; i++) {
            crc ^= buf[i];
            for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
        }
    }
    free(buf);
    return crc;
}

static uint64_t matmul_kernel(void) {
    enum { N = 220 };
    double *a = malloc(sizeof(double) * N * N), *b = malloc(sizeof(double) * N * N),
           *c = malloc(sizeof(double) * N * N);
    for (int i = 0; i < N * N; i++) {
        a[i] = (double)(rng() % 1000) / 100.0;
        b[i] = (double)(rng() % 1000) / 100.0;
    }
    double sum = 0;
    for (uint32_t round = 0; round < scaled(48); round++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int k = 0; k < N; k++) s += a[i * N + k] * b[k * N + j];
                c[i * N + j] = s;
            }
        for (int i = 0; i < N * N; i++) sum += c[i];
        b[round] += 1.0; /* each round differs */
    }
    free(a), free(b), free(c);
    return (uint64_t)sum;
}

static void quicksort(int32_t *v, int lo, int hi) {
    while (lo < hi) {
        int32_t pivot = v[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                int32_t t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
}

static uint64_t sort_kernel(void) {
    enum { N = 1 << 20 };
    int32_t *v = malloc(sizeof(int32_t) * N);
    uint64_t sum = 0;
    for (uint32_t round = 0; round < scaled(4); round++) {
        for (int i = 0; i < N; i++) v[i] = (int32_t)rng();
        quicksort(v, 0, N - 1);
        for (int i = 0; i < N; i += 1024) sum += (uint32_t)v[i];
    }
    free(v);
    return sum;
}

static uint64_t sieve_kernel(void) {
    enum { N = 16 << 20 };
    uint8_t *composite = malloc(N);
    uint64_t count = 0;
    for (uint32_t round = 0; round < scaled(3); round++) {
        memset(composite, 0, N);
        count = 0;
        for (uint32_t i = 2; i < N; i++) {
            if (composite[i]) continue;
            count++;
            for (uint32_t j = i * 2; j < N; j += i) composite[j] = 1;
        }
    }
    free(composite);
    return count;
}

typedef uint32_t (*op_fn)(uint32_t, uint32_t);
static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ (b << 1); }
static uint32_t op_mul(uint32_t a, uint32_t b) { return a * (b | 1); }
static uint32_t op_rot(uint32_t a, uint32_t b) { return (a << (b & 31)) | (a >> ((32 - b) & 31)); }

static uint64_t indirect_kernel(void) {
    op_fn ops[4] = {op_add, op_xor, op_mul, op_rot};
    volatile int opaque = 4;
    uint32_t acc = 1;
    for (uint32_t i = 0, n = scaled(200000000u); i < n; i++) acc = ops[i % (uint32_t)opaque](acc, i);
    return acc;
}

static uint64_t words_kernel(void) {
    enum { N = 4 << 20 };
    char *text = malloc(N);
    for (int i = 0; i < N; i++) {
        uint32_t r = rng() % 16;
        text[i] = r < 3 ? ' ' : r == 3 ? '\n' : r == 4 ? ',' : (char)('a' + r);
    }
    uint64_t words = 0, lines = 0, commas = 0;
    for (uint32_t round = 0; round < scaled(30); round++) {
        int in_word = 0;
        for (int i = 0; i < N; i++) {
            switch (text[i]) {
            case '\n': lines++; /* fall through */
            case ' ': in_word = 0; break;
            case ',': commas++; in_word = 0; break;
            default:
                if (!in_word) words++;
                in_word = 1;
            }
        }
    }
    free(text);
    return words * 1000003u + lines * 31u + commas;
}

struct kernel {
    const char *name;
    uint64_t (*run)(void);
};

int main(int argc, char **argv) {
    if (argc > 2) scale_percent = (uint32_t)strtoul(argv[2], 0, 10);
    static const struct kernel kernels[] = {
        {"crc32", crc32_kernel},   {"matmul", matmul_kernel},     {"sort", sort_kernel},
        {"sieve", sieve_kernel},   {"indirect", indirect_kernel}, {"words", words_kernel},
    };
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        if (argc > 1 && strcmp(argv[1], "all") != 0 && strcmp(argv[1], kernels[k].name) != 0)
            continue;
        rng_state = 12345;
        double start = now();
        uint64_t check = kernels[k].run();
        printf("%s %.4f %llu\n", kernels[k].name, now() - start, (unsigned long long)check);
    }
    return 0;
}
