/* attention.c — Luong "general" attention (no input feeding), the embedding
 * lookup and the dense head with its cross-entropy, the parts of Seq2Seq that
 * are not an LSTM stack: forward and backward, with their exports'
 * argument checks. Plain C in double accumulation: the reference these parts
 * are held to; a SIMD version can sit beside it later. Shapes: attention.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attention.h"

typedef lw_real real;

/* to be unified with api.c's LW_EXPORT and fail() when the exports move there */
#define LW_EXPORT __attribute__((used, visibility("default")))
#define LW_ATT_MAX_BYTES ((uint64_t)1 << 31) /* wasm32 heap limit (build.sh MAXIMUM_MEMORY) */

static char att_error[256];

static int att_fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(att_error, sizeof att_error, fmt, ap);
  va_end(ap);
  return status;
}

LW_EXPORT const char *lw_attention_last_error(void) { return att_error; }

/* A buffer of n elements of `size` bytes at p: present, within the heap, and
 * (with 32-bit pointers, as in wasm) not wrapping the address space; sizes in
 * uint64, as wasm's size_t is 32 bits. */
static int check_buf(const char *fn, const char *name, const void *p, uint64_t n, uint64_t size) {
  const uint64_t bytes = n * size;
  if (!p) return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: %s is NULL", fn, name);
  const int wraps = sizeof(void *) == 4 && (uint64_t)(uintptr_t)p + bytes > ((uint64_t)1 << 32); /* wasm32 */
  if (bytes > LW_ATT_MAX_BYTES || wraps)
    return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: %s of %llu elements does not fit in memory", fn, name,
                    (unsigned long long)n);
  return LW_STATUS_OK;
}

static int check_size(const char *fn, const char *name, int v, int lo) {
  if (v < lo || v > LW_MAX_SIZE)
    return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: %s = %d is outside %d..%d", fn, name, v, lo, LW_MAX_SIZE);
  return LW_STATUS_OK;
}

/* The checks both attention exports share: sizes, buffers, lengths. */
static int check_attention(const char *fn, int B, int T, int S, int H, const lw_real *h, const lw_real *hbar,
                           const int32_t *src_len, const int32_t *tgt_len, const lw_real *w_a,
                           const lw_real *w_c) {
  int st;
  if ((st = check_size(fn, "B", B, 1)) || (st = check_size(fn, "T", T, 1)) || (st = check_size(fn, "S", S, 1)) ||
      (st = check_size(fn, "H", H, 1)))
    return st;
  const uint64_t b = (uint64_t)B, t = (uint64_t)T, s = (uint64_t)S, hh = (uint64_t)H, r = sizeof(real);
  if ((st = check_buf(fn, "h", h, b * t * hh, r)) || (st = check_buf(fn, "hbar", hbar, b * s * hh, r)) ||
      (st = check_buf(fn, "src_len", src_len, b, 4)) || (st = check_buf(fn, "tgt_len", tgt_len, b, 4)) ||
      (st = check_buf(fn, "w_a", w_a, hh * hh, r)) || (st = check_buf(fn, "w_c", w_c, 2 * hh * hh, r)))
    return st;
  for (int i = 0; i < B; i++) {
    if (src_len[i] < 1 || src_len[i] > S)
      return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: src_len[%d] = %d is outside 1..%d", fn, i, src_len[i], S);
    if (tgt_len[i] < 0 || tgt_len[i] > T)
      return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: tgt_len[%d] = %d is outside 0..%d", fn, i, tgt_len[i], T);
  }
  return LW_STATUS_OK;
}

/* q (H) = W_a^T h_t, so that score(t,s) = h_t . (W_a hbar_s) = q . hbar_s */
static void query(int H, const real *w_a, const real *ht, double *q) {
  for (int j = 0; j < H; j++) q[j] = 0;
  for (int i = 0; i < H; i++) {
    const double hi = ht[i];
    const real *row = w_a + (size_t)i * H;
    for (int j = 0; j < H; j++) q[j] += row[j] * hi;
  }
}

/* p (Sb) = softmax_s (q . hbar_s) over the source's own steps, exp in double */
static void weights(int Sb, int H, const double *q, const real *hb, double *p) {
  double mx = -INFINITY, sum = 0;
  for (int s = 0; s < Sb; s++) {
    const real *row = hb + (size_t)s * H;
    double sc = 0;
    for (int k = 0; k < H; k++) sc += q[k] * row[k];
    p[s] = sc, mx = sc > mx ? sc : mx;
  }
  for (int s = 0; s < Sb; s++) p[s] = exp(p[s] - mx), sum += p[s];
  for (int s = 0; s < Sb; s++) p[s] /= sum;
}

/* u (2H) = [c_t ; h_t] with c_t = sum_s p(s) hbar_s */
static void combine_input(int Sb, int H, const double *p, const real *hb, const real *ht, double *u) {
  for (int k = 0; k < H; k++) u[k] = 0, u[H + k] = ht[k];
  for (int s = 0; s < Sb; s++) {
    const real *row = hb + (size_t)s * H;
    for (int k = 0; k < H; k++) u[k] += p[s] * row[k];
  }
}

LW_EXPORT int lw_attention_forward(int B, int T, int S, int H, const lw_real *h, const lw_real *hbar,
                                   const int32_t *src_len, const int32_t *tgt_len, const lw_real *w_a,
                                   const lw_real *w_c, lw_real *a, lw_real *htilde) {
  static const char fn[] = "attention_forward";
  int st = check_attention(fn, B, T, S, H, h, hbar, src_len, tgt_len, w_a, w_c);
  if (st) return st;
  const uint64_t r = sizeof(real);
  if ((st = check_buf(fn, "a", a, (uint64_t)B * T * S, r)) ||
      (st = check_buf(fn, "htilde", htilde, (uint64_t)B * T * H, r)))
    return st;
  double *q = malloc(((size_t)3 * H + S) * sizeof(double)); /* q (H), u (2H), p (S) */
  if (!q) return att_fail(LW_STATUS_NO_MEMORY, "%s: no memory for %d doubles of scratch", fn, 3 * H + S);
  double *u = q + H, *p = u + 2 * H;
  for (int b = 0; b < B; b++) {
    const int Sb = src_len[b], Tb = tgt_len[b];
    const real *hb = hbar + (size_t)b * S * H;
    for (int t = 0; t < T; t++) {
      real *at = a + ((size_t)b * T + t) * S, *out = htilde + ((size_t)b * T + t) * H;
      const real *ht = h + ((size_t)b * T + t) * H;
      if (t >= Tb) { /* past the target: zero rows, as the decoder's outputs there */
        memset(at, 0, (size_t)S * sizeof(real));
        memset(out, 0, (size_t)H * sizeof(real));
        continue;
      }
      query(H, w_a, ht, q);
      weights(Sb, H, q, hb, p);
      for (int s = 0; s < S; s++) at[s] = s < Sb ? (real)p[s] : 0;
      combine_input(Sb, H, p, hb, ht, u);
      /* h~_t = tanh(W_c u) */
      for (int i = 0; i < H; i++) {
        const real *row = w_c + (size_t)i * 2 * H;
        double z = 0;
        for (int j = 0; j < 2 * H; j++) z += row[j] * u[j];
        out[i] = (real)tanh(z);
      }
    }
  }
  free(q);
  return LW_STATUS_OK;
}

LW_EXPORT int lw_attention_backward(int B, int T, int S, int H, const lw_real *h, const lw_real *hbar,
                                    const int32_t *src_len, const int32_t *tgt_len, const lw_real *w_a,
                                    const lw_real *w_c, const lw_real *htilde, const lw_real *dhtilde,
                                    lw_real *dh, lw_real *dhbar, lw_real *dw_a, lw_real *dw_c) {
  static const char fn[] = "attention_backward";
  int st = check_attention(fn, B, T, S, H, h, hbar, src_len, tgt_len, w_a, w_c);
  if (st) return st;
  const uint64_t r = sizeof(real), bth = (uint64_t)B * T * H;
  if ((st = check_buf(fn, "htilde", htilde, bth, r)) || (st = check_buf(fn, "dhtilde", dhtilde, bth, r)) ||
      (st = check_buf(fn, "dh", dh, bth, r)) || (st = check_buf(fn, "dhbar", dhbar, (uint64_t)B * S * H, r)) ||
      (st = check_buf(fn, "dw_a", dw_a, (uint64_t)H * H, r)) ||
      (st = check_buf(fn, "dw_c", dw_c, (uint64_t)2 * H * H, r)))
    return st;
  const uint64_t scratch = 3 * (uint64_t)H * H + (uint64_t)S * H + 8 * (uint64_t)H + 2 * (uint64_t)S;
  if (scratch * sizeof(double) > LW_ATT_MAX_BYTES)
    return att_fail(LW_STATUS_NO_MEMORY, "%s: %llu doubles of scratch do not fit", fn, (unsigned long long)scratch);
  double *acc_wa = calloc((size_t)scratch, sizeof(double));
  if (!acc_wa) return att_fail(LW_STATUS_NO_MEMORY, "%s: no memory for %llu doubles of scratch", fn,
                               (unsigned long long)scratch);
  double *acc_wc = acc_wa + (size_t)H * H;        /* (H,2H) */
  double *acc_hb = acc_wc + (size_t)2 * H * H;    /* (S,H) dhbar of one sequence */
  double *q = acc_hb + (size_t)S * H;             /* (H) W_a^T h_t */
  double *u = q + H;                              /* (2H) [c_t ; h_t] */
  double *dz = u + 2 * H;                         /* (H) */
  double *du = dz + H;                            /* (2H) [dc ; dh direct] */
  double *g = du + 2 * H;                         /* (H) sum_s dscore(s) hbar_s */
  double *p = g + H;                              /* (S) attention weights */
  double *ds = p + S;                             /* (S) dscore */
  for (int b = 0; b < B; b++) {
    const int Sb = src_len[b], Tb = tgt_len[b];
    const real *hb = hbar + (size_t)b * S * H;
    memset(acc_hb, 0, (size_t)S * H * sizeof(double));
    for (int t = 0; t < T; t++) {
      const size_t row_t = ((size_t)b * T + t) * H;
      const real *ht = h + row_t, *out = htilde + row_t, *dout = dhtilde + row_t;
      real *dht = dh + row_t;
      if (t >= Tb) {
        memset(dht, 0, (size_t)H * sizeof(real));
        continue;
      }
      query(H, w_a, ht, q);
      weights(Sb, H, q, hb, p);
      combine_input(Sb, H, p, hb, ht, u);
      /* dz = dh~ (1 - h~^2); dW_c += dz u^T; du = W_c^T dz */
      for (int j = 0; j < 2 * H; j++) du[j] = 0;
      for (int i = 0; i < H; i++) {
        dz[i] = (double)dout[i] * (1 - (double)out[i] * out[i]);
        const real *row = w_c + (size_t)i * 2 * H;
        double *acc = acc_wc + (size_t)i * 2 * H;
        for (int j = 0; j < 2 * H; j++) acc[j] += dz[i] * u[j], du[j] += row[j] * dz[i];
      }
      const double *dc = du, *dh_direct = du + H;
      /* da(s) = dc . hbar_s; dscore(s) = p(s) (da(s) - sum_s' p(s') da(s')) */
      double pda = 0;
      for (int s = 0; s < Sb; s++) {
        const real *row = hb + (size_t)s * H;
        double da = 0;
        for (int k = 0; k < H; k++) da += dc[k] * row[k];
        ds[s] = da, pda += p[s] * da;
      }
      for (int k = 0; k < H; k++) g[k] = 0;
      for (int s = 0; s < Sb; s++) {
        ds[s] = p[s] * (ds[s] - pda);
        const real *row = hb + (size_t)s * H;
        double *acc = acc_hb + (size_t)s * H;
        /* dhbar_s += dscore(s) W_a^T h_t (through the score) + p(s) dc (through the context) */
        for (int k = 0; k < H; k++) acc[k] += ds[s] * q[k] + p[s] * dc[k], g[k] += ds[s] * row[k];
      }
      /* dh_t = dh direct + W_a g; dW_a += h_t g^T */
      for (int i = 0; i < H; i++) {
        const real *row = w_a + (size_t)i * H;
        double *acc = acc_wa + (size_t)i * H, v = dh_direct[i];
        const double hi = ht[i];
        for (int j = 0; j < H; j++) v += row[j] * g[j], acc[j] += hi * g[j];
        dht[i] = (real)v;
      }
    }
    /* steps past the source got nothing: exactly zero */
    real *dhb = dhbar + (size_t)b * S * H;
    for (size_t k = 0; k < (size_t)S * H; k++) dhb[k] = k < (size_t)Sb * H ? (real)acc_hb[k] : 0;
  }
  for (size_t k = 0; k < (size_t)H * H; k++) dw_a[k] += (real)acc_wa[k];
  for (size_t k = 0; k < (size_t)2 * H * H; k++) dw_c[k] += (real)acc_wc[k];
  free(acc_wa);
  return LW_STATUS_OK;
}

/* The checks both embedding exports share. */
static int check_embedding(const char *fn, int N, int V, int E, const int32_t *ids, const void *table,
                           const char *table_name, const void *rows, const char *rows_name) {
  int st;
  if ((st = check_size(fn, "N", N, 1)) || (st = check_size(fn, "V", V, 1)) || (st = check_size(fn, "E", E, 1)))
    return st;
  const uint64_t r = sizeof(real);
  if ((st = check_buf(fn, "ids", ids, (uint64_t)N, 4)) ||
      (st = check_buf(fn, table_name, table, (uint64_t)V * E, r)) ||
      (st = check_buf(fn, rows_name, rows, (uint64_t)N * E, r)))
    return st;
  for (int i = 0; i < N; i++)
    if (ids[i] < -1 || ids[i] >= V)
      return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: ids[%d] = %d is outside 0..%d (or -1 for padding)", fn, i,
                      ids[i], V - 1);
  return LW_STATUS_OK;
}

LW_EXPORT int lw_embedding_forward(int N, int V, int E, const int32_t *ids, const lw_real *table, lw_real *out) {
  int st = check_embedding("embedding_forward", N, V, E, ids, table, "table", out, "out");
  if (st) return st;
  for (int i = 0; i < N; i++) {
    real *row = out + (size_t)i * E;
    if (ids[i] < 0) memset(row, 0, (size_t)E * sizeof(real));
    else memcpy(row, table + (size_t)ids[i] * E, (size_t)E * sizeof(real));
  }
  return LW_STATUS_OK;
}

LW_EXPORT int lw_embedding_backward(int N, int V, int E, const int32_t *ids, const lw_real *dout, lw_real *dtable) {
  static const char fn[] = "embedding_backward";
  int st = check_embedding(fn, N, V, E, ids, dtable, "dtable", dout, "dout");
  if (st) return st;
  /* a counting sort of the rows by id (stable: increasing i within an id), so
   * that each id's rows are summed in one double pass and added once */
  int32_t *start = malloc(((size_t)V + 1 + N) * sizeof(int32_t));
  if (!start) return att_fail(LW_STATUS_NO_MEMORY, "%s: no memory for %d ints of scratch", fn, V + 1 + N);
  int32_t *order = start + V + 1;
  memset(start, 0, ((size_t)V + 1) * sizeof(int32_t));
  for (int i = 0; i < N; i++)
    if (ids[i] >= 0) start[ids[i] + 1]++;
  for (int v = 0; v < V; v++) start[v + 1] += start[v];
  for (int i = 0; i < N; i++)
    if (ids[i] >= 0) order[start[ids[i]]++] = i;
  /* start[v] now ends id v's run; the run begins where id v-1's ended */
  for (int v = 0, lo = 0; v < V; lo = start[v++]) {
    const int hi = start[v];
    if (lo == hi) continue;
    real *dst = dtable + (size_t)v * E;
    for (int e = 0; e < E; e++) {
      double sum = 0;
      for (int k = lo; k < hi; k++) sum += dout[(size_t)order[k] * E + e];
      dst[e] += (real)sum;
    }
  }
  free(start);
  return LW_STATUS_OK;
}

LW_EXPORT int lw_head_forward_backward(int N, int D, int O, const lw_real *x, const lw_real *w, const lw_real *b,
                                       const int32_t *target, double scale, lw_real *logits, double *loss,
                                       lw_real *dx, lw_real *dw, lw_real *db) {
  static const char fn[] = "head_forward_backward";
  int st;
  if ((st = check_size(fn, "N", N, 1)) || (st = check_size(fn, "D", D, 1)) || (st = check_size(fn, "O", O, 1)))
    return st;
  const uint64_t r = sizeof(real), n = (uint64_t)N, d = (uint64_t)D, o = (uint64_t)O;
  if ((st = check_buf(fn, "x", x, n * d, r)) || (st = check_buf(fn, "w", w, o * d, r)) ||
      (st = check_buf(fn, "b", b, o, r)) || (st = check_buf(fn, "logits", logits, n * o, r)))
    return st;
  const int want_loss = target != NULL, want_grad = dx != NULL;
  if (want_grad && !want_loss) return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: gradients need targets", fn);
  if (want_loss) {
    if ((st = check_buf(fn, "target", target, n, 4)) || (st = check_buf(fn, "loss", loss, 2, sizeof(double))))
      return st;
    for (int i = 0; i < N; i++)
      if (target[i] < -1 || target[i] >= O)
        return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: target[%d] = %d is outside 0..%d (or -1 to ignore)", fn, i,
                        target[i], O - 1);
  }
  if (want_grad) {
    if ((st = check_buf(fn, "dx", dx, n * d, r)) || (st = check_buf(fn, "dw", dw, o * d, r)) ||
        (st = check_buf(fn, "db", db, o, r)))
      return st;
    if (!isfinite(scale)) return att_fail(LW_STATUS_BAD_ARGUMENT, "%s: scale is not finite", fn);
  }
  const uint64_t scratch = o * d + 2 * o;
  if (scratch * sizeof(double) > LW_ATT_MAX_BYTES)
    return att_fail(LW_STATUS_NO_MEMORY, "%s: %llu doubles of scratch do not fit", fn, (unsigned long long)scratch);
  double *acc_w = calloc((size_t)scratch, sizeof(double));
  if (!acc_w) return att_fail(LW_STATUS_NO_MEMORY, "%s: no memory for %llu doubles of scratch", fn,
                              (unsigned long long)scratch);
  double *acc_b = acc_w + (size_t)O * D, *z = acc_b + O; /* z (O): a row's logits, then its dlogits */
  double total = 0;
  int kept = 0;
  for (int i = 0; i < N; i++) {
    const real *xi = x + (size_t)i * D;
    real *li = logits + (size_t)i * O;
    /* z = W x_i + b */
    double mx = -INFINITY;
    for (int k = 0; k < O; k++) {
      const real *row = w + (size_t)k * D;
      double v = b[k];
      for (int j = 0; j < D; j++) v += row[j] * xi[j];
      z[k] = v, li[k] = (real)v, mx = v > mx ? v : mx;
    }
    if (!want_loss) continue;
    real *dxi = want_grad ? dx + (size_t)i * D : NULL;
    if (target[i] < 0) {
      if (want_grad) memset(dxi, 0, (size_t)D * sizeof(real));
      continue;
    }
    /* -log softmax(z)[t] = log sum_k e^(z_k - max) + max - z_t */
    double sum = 0;
    for (int k = 0; k < O; k++) sum += exp(z[k] - mx);
    total += log(sum) + mx - z[target[i]], kept++;
    if (!want_grad) continue;
    /* dz = scale (softmax(z) - onehot(t)); dx_i = dz W; dW += dz x_i^T; db += dz */
    for (int k = 0; k < O; k++) z[k] = scale * (exp(z[k] - mx) / sum - (k == target[i]));
    for (int j = 0; j < D; j++) {
      double v = 0;
      for (int k = 0; k < O; k++) v += z[k] * w[(size_t)k * D + j];
      dxi[j] = (real)v;
    }
    for (int k = 0; k < O; k++) {
      double *acc = acc_w + (size_t)k * D;
      for (int j = 0; j < D; j++) acc[j] += z[k] * xi[j];
      acc_b[k] += z[k];
    }
  }
  if (want_loss) loss[0] = total, loss[1] = kept;
  if (want_grad) {
    for (size_t k = 0; k < (size_t)O * D; k++) dw[k] += (real)acc_w[k];
    for (int k = 0; k < O; k++) db[k] += (real)acc_b[k];
  }
  free(acc_w);
  return LW_STATUS_OK;
}
