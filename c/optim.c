/* optim.c — parameter updates from the gradient buffer: clipping by value and
 * by global norm, L2 or decoupled weight decay, then SGD (momentum, Nesterov),
 * Adam, AdamW or RMSProp in PyTorch's formulation. A step whose gradient is
 * not finite changes nothing and reports LW_STATUS_NOT_FINITE. Also the
 * learning-rate schedules (lw_schedule_lr). */
#include <math.h>
#include <stdlib.h>
#include "internal.h"
#include "activation.h"

int lw_optim_reserve(lw_model *m) {
  if (m->opt.m) return LW_STATUS_OK;
  /* one block: moments m then v, so the state saves and loads as one array */
  if (!(m->opt.m = calloc(2 * m->P + 1, sizeof(real)))) return LW_STATUS_NO_MEMORY;
  m->opt.v = m->opt.m + m->P;
  return LW_STATUS_OK;
}

/* Value clipping (clip_value > 0): the gradient as the update sees it. */
static inline real clipped(real x, real clip_value) {
  return clip_value > 0 ? (x > clip_value ? clip_value : x < -clip_value ? -clip_value : x) : x;
}

/* Sum of squares, in double and in index order, of the gradient after value
 * clipping: the square of its global norm. Sums of several models add up to
 * the square of their joint norm (an encoder and a decoder clipped together). */
double lw_optim_sumsq(const lw_model *m) {
  const real clip_value = m->opt.hyper[LW_HYPER_CLIP_VALUE], *g = m->grads;
  double sq = 0;
  for (size_t i = 0; i < m->P; i++) {
    const real x = clipped(g[i], clip_value);
    sq += (double)x * x;
  }
  return sq;
}

/* The optimizer step of o on one block of P parameters w with gradient g,
 * clipped by value, then by the global norm `norm` (>= 0, finite; it may be
 * the joint norm of several blocks) against o's clipNorm. o->m and o->v hold
 * P reals each; o->steps counts the steps taken and grows by one. Shared by a
 * model's own update and by lw_optim_block_step (Seq2Seq's attention, head
 * and embeddings), so every parameter of a model gets the same arithmetic. */
int lw_optim_apply(lw_optim_state *o, real *w, const real *g, size_t P, double norm) {
  if (!isfinite(norm)) return LW_STATUS_NOT_FINITE;
  const real clip_value = o->hyper[LW_HYPER_CLIP_VALUE], clip_norm = o->hyper[LW_HYPER_CLIP_NORM];
  /* scale = max_norm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_ */
  real scale = clip_norm > 0 && norm > clip_norm ? (real)(clip_norm / (norm + 1e-6)) : 1;

  const real lr = o->hyper[LW_HYPER_LR], wd = o->hyper[LW_HYPER_WEIGHT_DECAY];
  const real b1 = o->hyper[LW_HYPER_BETA1], b2 = o->hyper[LW_HYPER_BETA2], eps = o->hyper[LW_HYPER_EPS];
  const real mom = o->hyper[LW_HYPER_MOMENTUM];
  const int nesterov = o->hyper[LW_HYPER_NESTEROV] != 0;
  const double steps = o->steps + 1;
  const real bc1 = (real)(1 - pow(b1, steps)), bc2 = (real)(1 - pow(b2, steps));
  real *mo = o->m, *v = o->v;
  /* Two passes over the same deterministic arithmetic: the first only checks
   * that every new weight and moment is finite (a finite gradient can still
   * overflow an update), the second commits. A refused step changes nothing. */
  for (int commit = 0; commit < 2; commit++) {
    int finite = 1;
    for (size_t i = 0; i < P; i++) {
      real x = clipped(g[i], clip_value) * scale, wi = w[i], mi = mo[i], vi = v[i];
      switch (o->kind) {
      case LW_OPTIM_SGD:
        x += wd * wi;
        if (mom > 0) {
          /* buf = momentum*buf + g (first step: buf = g); Nesterov: g + momentum*buf */
          mi = steps == 1 ? x : mom * mi + x;
          x = nesterov ? x + mom * mi : mi;
        }
        wi -= lr * x;
        break;
      case LW_OPTIM_ADAMW:
        wi -= lr * wd * wi; /* decoupled (Loshchilov & Hutter 2019) */
        /* fall through */
      case LW_OPTIM_ADAM:
        if (o->kind == LW_OPTIM_ADAM) x += wd * wi;
        mi = b1 * mi + (1 - b1) * x;
        vi = b2 * vi + (1 - b2) * x * x;
        wi -= lr * (mi / bc1) / (LW_SQRT(vi / bc2) + eps);
        break;
      default: /* RMSProp: v = alpha v + (1-alpha) g^2; w -= lr g / (sqrt(v) + eps) */
        x += wd * wi;
        vi = b1 * vi + (1 - b1) * x * x;
        wi -= lr * x / (LW_SQRT(vi) + eps);
      }
      if (commit) w[i] = wi, mo[i] = mi, v[i] = vi;
      else finite &= isfinite(wi) && isfinite(mi) && isfinite(vi);
    }
    if (!finite) return LW_STATUS_NOT_FINITE;
  }
  o->steps = steps;
  return LW_STATUS_OK;
}

/* The update from whatever sits in m->grads, clipped by value, then by the
 * global norm `norm` (< 0: this gradient's own), which may be the joint norm
 * of several models' gradients. */
int lw_optim_step(lw_model *m, double norm) {
  int status = lw_optim_reserve(m);
  if (status) return status;
  if (norm < 0) norm = sqrt(lw_optim_sumsq(m));
  if ((status = lw_optim_apply(&m->opt, m->params, m->grads, m->P, norm))) return status;
  m->packed_dirty = 1;
  return LW_STATUS_OK;
}

/* Learning rate at an epoch under a schedule (enum lw_schedule), computed
 * here so that every runtime gets the same bits (Math.cos and Math.pow may
 * differ between JS engines). */
LW_EXPORT double lw_schedule_lr(int kind, double base, int epoch, double gamma, int every, double floor_lr) {
  if (epoch < 0) epoch = 0;
  switch (kind) {
  case LW_SCHEDULE_STEP: return base * pow(gamma, every > 0 ? epoch / every : 0);
  case LW_SCHEDULE_EXPONENTIAL: return base * pow(gamma, epoch);
  case LW_SCHEDULE_COSINE: {
    double p = every > 0 ? (epoch < every ? (double)epoch / every : 1) : 0;
    return floor_lr + (base - floor_lr) * 0.5 * (1 + cos(3.14159265358979323846 * p));
  }
  default: return base; /* LW_SCHEDULE_CONSTANT */
  }
}
