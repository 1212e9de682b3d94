/* loss.c — the losses, their gradients with respect to the logits, and the
 * output activations, over the rows of the head that are inside a sequence.
 * Means follow PyTorch's reduction='mean': over rows x outputs for the
 * element-wise losses, over rows for softmax cross-entropy. */
#include <math.h>
#include <string.h>
#include "internal.h"
#include "activation.h"

/* The loss SUM over valid rows (accumulated in double, so it does not depend
 * on B), and in *count the number its mean divides by (valid rows, times O
 * for the element-wise losses). When want_grad, fills h->dlogits (zero on
 * other rows) with d(sum)/d(logits) / norm; norm <= 0 means *count, which
 * makes it the gradient of the mean. Shards of one batch given the whole
 * batch's count as norm thus give gradients that add up to the batch's. */
double lw_loss_forward_backward(lw_head *h, const lw_batch *b, int want_grad, double norm, double *count) {
  const int rows = lw_head_rows(h, b), O = h->O;
  int valid = 0;
  for (int r = 0; r < rows; r++) valid += lw_head_row_valid(h, b, r);
  const int per_row = h->loss == LW_LOSS_SOFTMAX_CE;
  *count = per_row ? valid : (double)valid * O;
  if (!(norm > 0)) norm = *count;
  double total = 0;
  for (int r = 0; r < rows; r++) {
    const real *z = h->logits + (size_t)r * O, *t = h->target + (size_t)r * O;
    real *dz = h->dlogits + (size_t)r * O;
    if (!lw_head_row_valid(h, b, r)) {
      if (want_grad) memset(dz, 0, O * sizeof(real));
      continue;
    }
    if (h->loss == LW_LOSS_SOFTMAX_CE) {
      /* -sum_k t_k log softmax(z)_k, with log-sum-exp shifted by the max */
      double mx = z[0], sum = 0, tsum = 0;
      for (int k = 1; k < O; k++) mx = z[k] > mx ? z[k] : mx;
      for (int k = 0; k < O; k++) { /* dz holds e^(z - max) meanwhile: one exp per logit */
        const double e = exp(z[k] - mx);
        sum += e, tsum += t[k];
        if (want_grad) dz[k] = (real)e;
      }
      double lse = mx + log(sum);
      for (int k = 0; k < O; k++) {
        total += t[k] * (lse - z[k]);
        if (want_grad) dz[k] = (real)((dz[k] / sum * tsum - t[k]) / norm);
      }
      continue;
    }
    for (int k = 0; k < O; k++) {
      double e = (double)z[k] - t[k], g;
      switch (h->loss) {
      case LW_LOSS_MSE: total += e * e, g = 2 * e; break;
      case LW_LOSS_MAE: total += fabs(e), g = e > 0 ? 1 : e < 0 ? -1 : 0; break;
      case LW_LOSS_HUBER: /* delta = 1, as PyTorch HuberLoss */
        total += fabs(e) < 1 ? 0.5 * e * e : fabs(e) - 0.5;
        g = e > 1 ? 1 : e < -1 ? -1 : e;
        break;
      default: { /* sigmoid cross-entropy from logits: max(z,0) - z t + log(1 + e^-|z|) */
        double x = z[k];
        total += (x > 0 ? x : 0) - x * t[k] + log1p(exp(-fabs(x)));
        g = (x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))) - t[k];
      }
      }
      if (want_grad) dz[k] = (real)(g / norm);
    }
  }
  return total;
}

/* What predict returns: probabilities for the classification losses,
 * the logits themselves otherwise. out may alias logits. */
void lw_loss_activate(int loss, int rows, int O, const real *logits, real *out) {
  for (int r = 0; r < rows; r++) {
    const real *z = logits + (size_t)r * O;
    real *y = out + (size_t)r * O;
    if (loss == LW_LOSS_SOFTMAX_CE) {
      /* in the model's precision, one exp per logit (y may be z) */
      real mx = z[0];
      double sum = 0;
      for (int k = 1; k < O; k++) mx = z[k] > mx ? z[k] : mx;
      for (int k = 0; k < O; k++) y[k] = LW_EXP(z[k] - mx), sum += y[k];
      for (int k = 0; k < O; k++) y[k] = (real)(y[k] / sum);
    } else if (loss == LW_LOSS_SIGMOID_CE) {
      for (int k = 0; k < O; k++) y[k] = lw_sigmoid(z[k]);
    } else if (y != z) {
      memcpy(y, z, O * sizeof(real));
    }
  }
}

/* out = softmax(z / temperature), in double: the same bits in every runtime. */
void lw_loss_softmax(const real *z, int n, double temperature, real *out) {
  double mx = z[0], sum = 0;
  for (int k = 1; k < n; k++) mx = z[k] > mx ? z[k] : mx;
  for (int k = 0; k < n; k++) sum += exp((z[k] - mx) / temperature);
  for (int k = 0; k < n; k++) out[k] = (real)(exp((z[k] - mx) / temperature) / sum);
}
