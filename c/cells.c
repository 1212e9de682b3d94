/* cells.c — what one step of each cell does to its gates, forward and
 * backward, for n rows at once, and the table of cells (lw_cell_ops) that
 * tells the rest of the engine what each cell needs; the products with the
 * weights are done by layer.c. The plain LSTM goes to the kernels of kernels.inc (SIMD in the
 * SIMD build); its variants (enum lw_gate), the GRU and the RNN are written
 * here in plain C, one equation per line, as their specification. */
#include <string.h>
#include "internal.h"
#include "kernels.h"
#include "activation.h"

/* LSTM with switches. a = pre-activations (x W_ih^T + h W_hh^T + biases):
 *   i = sigmoid(a_i + p_i c(t-1))   (1 without an input gate)
 *   f = sigmoid(a_f + p_f c(t-1))   (1 without a forget gate; 1 - i when coupled)
 *   g = tanh(a_g)                   (a_g without input activation; 4 sigmoid - 2 in 1997)
 *   c = f c(t-1) + i g
 *   o = sigmoid(a_o + p_o c(t))     (1 without an output gate)
 *   h = o tanh(c)                   (o c without output activation; o (2 sigmoid(c) - 1) in 1997) */
static void lstm_variant_forward(const lw_dir *d, int n, real *gates, const real *c_prev, real *c, real *h,
                                 const lw_depth_io *dep) {
  const int H = d->H, fl = d->flags, peep = fl & LW_GATE_PEEPHOLES;
  /* without peepholes w_peep is NULL, and an offset from NULL is undefined even unused */
  const real *pi = d->w_peep, *pf = peep ? pi + H : NULL, *po = peep ? pi + 2 * H : NULL;
  for (int r = 0; r < n; r++) {
    real *gi = gates + (size_t)r * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
    const real *cp = c_prev + (size_t)r * H;
    real *cr = c + (size_t)r * H, *hr = h + (size_t)r * H;
    for (int j = 0; j < H; j++) {
      real i = fl & LW_GATE_NO_INPUT ? 1 : lw_sigmoid(gi[j] + (peep ? pi[j] * cp[j] : 0));
      real f = fl & LW_GATE_COUPLED ? 1 - i : fl & LW_GATE_NO_FORGET ? 1 : lw_sigmoid(gf[j] + (peep ? pf[j] * cp[j] : 0));
      real g = fl & LW_GATE_NO_INPUT_ACT ? gg[j] : fl & LW_GATE_SQUASH_1997 ? 4 * lw_sigmoid(gg[j]) - 2 : lw_tanh(gg[j]);
      cr[j] = f * cp[j] + i * g;
      if (dep) { /* depth gate: d = sigmoid(W_d x + b_d + w_dc c(t-1) + w_dl c_below); c += d c_below */
        const real *cb = dep->c_below + (size_t)r * H;
        real *da = dep->act + (size_t)r * H;
        const real dg = lw_sigmoid(da[j] + d->w_dc[j] * cp[j] + d->w_dl[j] * cb[j]);
        cr[j] += dg * cb[j];
        da[j] = dg;
      }
      real o = fl & LW_GATE_NO_OUTPUT ? 1 : lw_sigmoid(go[j] + (peep ? po[j] * cr[j] : 0));
      real s = fl & LW_GATE_NO_OUTPUT_ACT ? cr[j] : fl & LW_GATE_SQUASH_1997 ? 2 * lw_sigmoid(cr[j]) - 1 : lw_tanh(cr[j]);
      hr[j] = o * s;
      gi[j] = i, gf[j] = f, gg[j] = g, go[j] = o;
    }
  }
}

/* Its backward: dh in; dc in as dL/dc(t), out as dL/dc(t-1); dgates out
 * (gradients of the pre-activations); dpeep (3H) accumulated. */
static void lstm_variant_backward(const lw_dir *d, int n, const real *gates, const real *c_prev, const real *c,
                                  const real *dact, const real *dh, real *dc, real *dgates, real *dpeep,
                                  const lw_depth_io *dep) {
  const int H = d->H, fl = d->flags, peep = fl & LW_GATE_PEEPHOLES;
  /* without peepholes w_peep is NULL, and an offset from NULL is undefined even unused */
  const real *pi = d->w_peep, *pf = peep ? pi + H : NULL, *po = peep ? pi + 2 * H : NULL;
  for (int r = 0; r < n; r++) {
    const real *gi = gates + (size_t)r * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
    real *di = dgates + (size_t)r * 4 * H, *df = di + H, *dg = di + 2 * H, *dout = di + 3 * H;
    const real *cp = c_prev + (size_t)r * H, *cr = c + (size_t)r * H, *dhr = dh + (size_t)r * H;
    real *dcr = dc + (size_t)r * H;
    /* FGR: gradients reaching i, f, o from the gates of the step after */
    const real *xi = dact ? dact + (size_t)r * 3 * H : NULL, *xf = xi ? xi + H : NULL, *xo = xi ? xi + 2 * H : NULL;
    for (int j = 0; j < H; j++) {
      const real i = gi[j], f = gf[j], g = gg[j], o = go[j];
      real s, ds; /* h = o s(c); ds = s'(c) */
      if (fl & LW_GATE_NO_OUTPUT_ACT) s = cr[j], ds = 1;
      else if (fl & LW_GATE_SQUASH_1997) { real q = lw_sigmoid(cr[j]); s = 2 * q - 1, ds = 2 * q * (1 - q); }
      else s = lw_tanh(cr[j]), ds = 1 - s * s;
      const real dao = fl & LW_GATE_NO_OUTPUT ? 0 : (dhr[j] * s + (xo ? xo[j] : 0)) * o * (1 - o);
      /* dL/dc(t): carried, through h, and through the output peephole */
      const real dct = dcr[j] + dhr[j] * o * ds + (peep ? dao * po[j] : 0);
      real d_i = dct * g + (xi ? xi[j] : 0); /* dL/di */
      const real d_f = dct * cp[j] + (xf ? xf[j] : 0);
      if (fl & LW_GATE_COUPLED) d_i -= d_f; /* f = 1 - i */
      const real dai = fl & LW_GATE_NO_INPUT ? 0 : d_i * i * (1 - i);
      const real daf = fl & (LW_GATE_NO_FORGET | LW_GATE_COUPLED) ? 0 : d_f * f * (1 - f);
      real dag = dct * i;
      if (fl & LW_GATE_SQUASH_1997) { real q = (g + 2) / 4; dag *= 4 * q * (1 - q); }
      else if (!(fl & LW_GATE_NO_INPUT_ACT)) dag *= 1 - g * g;
      di[j] = dai, df[j] = daf, dg[j] = dag, dout[j] = dao;
      dcr[j] = dct * f + (peep ? dai * pi[j] + daf * pf[j] : 0);
      if (dep) { /* depth gate: dL/da_d = dct c_below d (1 - d); c_below gets dct d and a_d's share */
        const size_t q = (size_t)r * H + j;
        const real cb = dep->c_below[q], dg = dep->act[q], dad = dct * cb * dg * (1 - dg);
        dep->dact[q] = dad;
        dep->dc_below[q] = dct * dg + dad * d->w_dl[j];
        dcr[j] += dad * d->w_dc[j];
        d->dw_dc[j] += dad * cp[j], d->dw_dl[j] += dad * cb;
      }
      if (peep) dpeep[j] += dai * cp[j], dpeep[H + j] += daf * cp[j], dpeep[2 * H + j] += dao * cr[j];
    }
  }
}

/* GRU, as PyTorch: gates holds x W_ih^T + b_ih, rec holds h W_hh^T + b_hh.
 *   r = sigmoid(gx_r + rec_r),  z = sigmoid(gx_z + rec_z)
 *   n = tanh(gx_n + r rec_n),   h = (1 - z) n + z h(t-1)
 * gates gets r, z, n; aux (n,H) keeps rec_n for the backward pass. */
static void gru_forward(int n, int H, real *gates, const real *rec, const real *h_prev, real *h, real *aux) {
  for (int b = 0; b < n; b++) {
    real *gr = gates + (size_t)b * 3 * H, *gz = gr + H, *gn = gr + 2 * H;
    const real *rr = rec + (size_t)b * 3 * H, *rz = rr + H, *rn = rr + 2 * H, *hp = h_prev + (size_t)b * H;
    real *hb = h + (size_t)b * H, *ab = aux + (size_t)b * H;
    for (int j = 0; j < H; j++) {
      real r = lw_sigmoid(gr[j] + rr[j]), z = lw_sigmoid(gz[j] + rz[j]);
      real nn = lw_tanh(gn[j] + r * rn[j]);
      hb[j] = (1 - z) * nn + z * hp[j];
      gr[j] = r, gz[j] = z, gn[j] = nn, ab[j] = rn[j];
    }
  }
}

/* dh in: dL/dh(t); out: the part of dL/dh(t-1) that bypasses W_hh (z dh).
 * dgx, dgh: gradients of x W_ih^T + b_ih and of h W_hh^T + b_hh. */
static void gru_backward(int n, int H, const real *gates, const real *aux, const real *h_prev, real *dh, real *dgx,
                         real *dgh) {
  for (int b = 0; b < n; b++) {
    const real *gr = gates + (size_t)b * 3 * H, *gz = gr + H, *gn = gr + 2 * H;
    const real *ab = aux + (size_t)b * H, *hp = h_prev + (size_t)b * H;
    real *xr = dgx + (size_t)b * 3 * H, *xz = xr + H, *xn = xr + 2 * H;
    real *hr = dgh + (size_t)b * 3 * H, *hz = hr + H, *hn = hr + 2 * H, *dhb = dh + (size_t)b * H;
    for (int j = 0; j < H; j++) {
      const real r = gr[j], z = gz[j], nn = gn[j], d = dhb[j];
      const real dan = d * (1 - z) * (1 - nn * nn);
      const real daz = d * (hp[j] - nn) * z * (1 - z);
      const real dar = dan * ab[j] * r * (1 - r);
      xr[j] = hr[j] = dar, xz[j] = hz[j] = daz, xn[j] = dan, hn[j] = dan * r;
      dhb[j] = d * z;
    }
  }
}

/* Each cell's step, in the signature of lw_cell_ops (the table below). */

static void lstm_step(const lw_dir *d, int step, int n, real *gates, const real *rec, const real *h_prev,
                      const real *c_prev, real *c, real *h, real *aux, const lw_depth_io *dep) {
  if (d->flags) lstm_variant_forward(d, n, gates, c_prev, c, h, dep);
  else lw_lstm_cell_fwd(n, d->H, gates, c_prev, c, h);
}

static void lstm_step_back(const lw_dir *d, int step, int n, const real *gates, const real *aux, const real *h_prev,
                           const real *c_prev, const real *c, const real *dact, real *dh, real *dc, real *dgx, real *dgh, const lw_depth_io *dep) {
  if (d->flags) lstm_variant_backward(d, n, gates, c_prev, c, dact, dh, dc, dgx, d->dw_peep, dep);
  else lw_lstm_cell_bwd(n, d->H, gates, c_prev, c, dh, dc, dgx);
  memset(dh, 0, (size_t)n * d->H * sizeof(real)); /* all of dh went into the gates */
}

static void gru_step(const lw_dir *d, int step, int n, real *gates, const real *rec, const real *h_prev,
                     const real *c_prev, real *c, real *h, real *aux, const lw_depth_io *dep) {
  memset(c, 0, (size_t)n * d->H * sizeof(real)); /* no cell state: c stays zero */
  gru_forward(n, d->H, gates, rec, h_prev, h, aux);
}

static void gru_step_back(const lw_dir *d, int step, int n, const real *gates, const real *aux, const real *h_prev,
                          const real *c_prev, const real *c, const real *dact, real *dh, real *dc, real *dgx, real *dgh, const lw_depth_io *dep) {
  gru_backward(n, d->H, gates, aux, h_prev, dh, dgx, dgh);
}

/* h = tanh(a) */
static void rnn_step(const lw_dir *d, int step, int n, real *gates, const real *rec, const real *h_prev,
                     const real *c_prev, real *c, real *h, real *aux, const lw_depth_io *dep) {
  memset(c, 0, (size_t)n * d->H * sizeof(real)); /* no cell state: c stays zero */
  for (size_t k = 0; k < (size_t)n * d->H; k++) h[k] = gates[k] = lw_tanh(gates[k]);
}

/* da = dh (1 - h^2) */
static void rnn_step_back(const lw_dir *d, int step, int n, const real *gates, const real *aux, const real *h_prev,
                          const real *c_prev, const real *c, const real *dact, real *dh, real *dc, real *dgx, real *dgh, const lw_depth_io *dep) {
  for (size_t k = 0; k < (size_t)n * d->H; k++) dgx[k] = dh[k] * (1 - gates[k] * gates[k]), dh[k] = 0;
}

/* Clockwork RNN (Koutnik, Greff, Gomez & Schmidhuber 2014): the H units are
 * g modules of m = H/g, module i (units [i m, (i+1) m)) with period p_i. At
 * step t module i runs when t mod p_i == 0:
 *   h_t[i] = tanh(W_ih[i] x_t + b_ih[i] + W_hh[i, j>=i] h_{t-1}[j>=i] + b_hh[i])
 * and otherwise keeps its state: h_t[i] = h_{t-1}[i]. W_hh is block upper
 * triangular (module i reads itself and the slower modules): its blocks
 * W_hh[i, j<i] are structural zeros, never read and never trained. Only the
 * running modules' rows are computed: the paper's saving over an RNN. */
static int clockwork_runs(const lw_dir *d, int step, int i) { return step % d->periods[i] == 0; }

/* rec (n,H) += h_prev (n,H) . W_hh^T, the running modules' columns only:
 * rec[:, module i] += h_prev[:, i m .. H) . W_hh^T[i m .. H, module i] */
static void clockwork_recurrent(const lw_dir *d, int step, int n, const real *h_prev, real *rec) {
  const int H = d->H, m = H / d->n_periods;
  for (int i = 0; i < d->n_periods; i++)
    if (clockwork_runs(d, step, i))
      lw_gemm_nn(n, m, H - i * m, h_prev + i * m, H, d->w_hhT + (size_t)i * m * d->ld_T + i * m, d->ld_T, rec + i * m, d->G);
}

/* dh (n,H) += dgh (n,H) . W_hh, from the running modules' rows only:
 * dh[:, i m .. H) += dgh[:, module i] . W_hh[module i, i m .. H) (the others' dgh is zero) */
static void clockwork_recurrent_back(const lw_dir *d, int step, int n, const real *dgh, real *dh) {
  const int H = d->H, m = H / d->n_periods;
  for (int i = 0; i < d->n_periods; i++)
    if (clockwork_runs(d, step, i))
      lw_gemm_nn(n, H - i * m, m, dgh + i * m, d->G, d->w_hhP + (size_t)i * m * d->ld_H + i * m, d->ld_H, dh + i * m, H);
}

/* w (H,H) as W_hh: the blocks below the diagonal, w[module i, j < i m], are zero */
static void clockwork_zero(const lw_dir *d, real *w) {
  const int H = d->H, m = H / d->n_periods;
  for (int i = 1; i < d->n_periods; i++)
    for (int r = i * m; r < (i + 1) * m; r++) memset(w + (size_t)r * H, 0, (size_t)i * m * sizeof(real));
}

/* running: h = tanh(a); kept: h = h(t-1). gates gets h either way (h may
 * alias h_prev in a stream: element by element, never memcpy) */
static void clockwork_step(const lw_dir *d, int step, int n, real *gates, const real *rec, const real *h_prev,
                           const real *c_prev, real *c, real *h, real *aux, const lw_depth_io *dep) {
  const int H = d->H, m = H / d->n_periods;
  memset(c, 0, (size_t)n * H * sizeof(real)); /* no cell state: c stays zero */
  for (int i = 0; i < d->n_periods; i++) {
    const int runs = clockwork_runs(d, step, i);
    for (int r = 0; r < n; r++)
      for (size_t k = (size_t)r * H + i * m; k < (size_t)r * H + (i + 1) * m; k++)
        h[k] = gates[k] = runs ? lw_tanh(gates[k]) : h_prev[k];
  }
}

/* running: da = dh (1 - h^2), and dh goes on through W_hh (clockwork_recurrent_back);
 * kept: da = 0, and dh(t) passes unchanged to h(t-1) */
static void clockwork_step_back(const lw_dir *d, int step, int n, const real *gates, const real *aux, const real *h_prev,
                                const real *c_prev, const real *c, const real *dact, real *dh, real *dc, real *dgx, real *dgh, const lw_depth_io *dep) {
  const int H = d->H, m = H / d->n_periods;
  for (int i = 0; i < d->n_periods; i++) {
    const int runs = clockwork_runs(d, step, i);
    for (int r = 0; r < n; r++)
      for (size_t k = (size_t)r * H + i * m; k < (size_t)r * H + (i + 1) * m; k++) {
        dgx[k] = runs ? dh[k] * (1 - gates[k] * gates[k]) : 0;
        if (runs) dh[k] = 0;
      }
  }
}

/* The cells, by enum lw_cell: the one place that says what each is to the
 * rest of the engine. A new cell is its two step functions and a row here. */
static const lw_cell_ops CELLS[] = {
    [LW_CELL_LSTM] = {"LSTM", 4, 0, 1, 1, 1, "i f g o c h", lstm_step, lstm_step_back, NULL, NULL, NULL},
    [LW_CELL_GRU] = {"GRU", 3, 1, 0, -1, 0, "r z n - h", gru_step, gru_step_back, NULL, NULL, NULL},
    [LW_CELL_RNN] = {"RNN", 1, 0, 0, -1, 0, "- - h", rnn_step, rnn_step_back, NULL, NULL, NULL},
    [LW_CELL_CLOCKWORK] = {"CLOCKWORK", 1, 0, 0, -1, 0, "- - h", clockwork_step, clockwork_step_back, clockwork_recurrent,
                           clockwork_recurrent_back, clockwork_zero},
};

const lw_cell_ops *lw_cell_kind(int cell) {
  return cell >= 0 && cell < (int)(sizeof CELLS / sizeof *CELLS) ? &CELLS[cell] : NULL;
}

int lw_cell_count(void) { return (int)(sizeof CELLS / sizeof *CELLS); }


/* Full gate recurrence (FGR, Greff et al. 2015): the pre-activations of i, f
 * and o also receive W_gate . (i, f, o) of the step before. In the gate rows
 * (i f g o) the sources and targets are two runs: i f at 0 and o at 3H;
 * in W_gate (3H,3H) they are rows/columns 0..2H and 2H..3H. */
static const int RUN_AT[2] = {0, 3}, RUN_W[2] = {0, 2}, RUN_LEN[2] = {2, 1}; /* in units of H */

/* gates (n,4H) += prev (n,4H activations) . W_gate^T, on i, f, o only */
void lw_gate_recurrence_forward(const lw_dir *d, int n, const real *prev, real *gates) {
  const int H = d->H, G = d->G, W = 3 * H;
  for (int t = 0; t < 2; t++)
    for (int s = 0; s < 2; s++)
      lw_gemm_nn(n, RUN_LEN[t] * H, RUN_LEN[s] * H, prev + RUN_AT[s] * H, G, d->w_gateT + (size_t)RUN_W[s] * H * W + RUN_W[t] * H,
                 W, gates + RUN_AT[t] * H, G);
}

/* From dgates (n,4H) of a step: dact (n,3H) += dgates_ifo . W_gate, the
 * gradient reaching the previous step's i, f, o; dW_gate += dgates_ifo^T . prev. */
void lw_gate_recurrence_backward(const lw_dir *d, int n, const real *dgates, const real *prev, real *dact) {
  const int H = d->H, G = d->G, W = 3 * H;
  for (int t = 0; t < 2; t++)
    for (int s = 0; s < 2; s++) {
      const size_t w = (size_t)RUN_W[t] * H * W + RUN_W[s] * H;
      lw_gemm_nn(n, RUN_LEN[s] * H, RUN_LEN[t] * H, dgates + RUN_AT[t] * H, G, d->w_gate + w, W, dact + RUN_W[s] * H, W);
      lw_gemm_tn(RUN_LEN[t] * H, RUN_LEN[s] * H, n, dgates + RUN_AT[t] * H, G, prev + RUN_AT[s] * H, G, d->dw_gate + w, W);
    }
}
