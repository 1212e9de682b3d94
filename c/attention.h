/* attention.h — the parts of Seq2Seq (issue 12) that are not an LSTM stack:
 * Luong "general" attention without input feeding, the embedding lookup and
 * the dense head with its softmax cross-entropy, each a forward/backward pair
 * over caller-provided buffers (attention.c).
 * All buffers are batch-first and row-major; sizes use B (batch), T (decoder
 * steps), S (source steps), H (hidden size), V (vocabulary), E (embedding). */
#ifndef LW_ATTENTION_H
#define LW_ATTENTION_H
#include <stdint.h>
#include "lw.h"

/* Luong et al. 2015, "general" score, per sequence b and decoder step t < tgt_len[b]:
 *   score(t,s) = h_t . (W_a hbar_s)            for s < src_len[b] only
 *   a_t        = softmax_s score(t,.)           (exp in double)
 *   c_t        = sum_s a_t(s) hbar_s
 *   h~_t       = tanh(W_c [c_t ; h_t])          (context first, then h_t)
 * Inputs: h (B,T,H) the decoder's top-layer outputs, hbar (B,S,H) the encoder's,
 * src_len (B) in 1..S, tgt_len (B) in 0..T, w_a (H,H), w_c (H,2H) (PyTorch
 * nn.Linear weights: out x in). Outputs, overwritten: a (B,T,S), zero on columns
 * s >= src_len[b]; htilde (B,T,H). Rows t >= tgt_len[b] of both are zero.
 * Every sum runs in double and is rounded once, so a row's result does not
 * depend on the other rows of the batch. Needs 2H + S doubles of scratch
 * (malloc). Returns an enum lw_status; on failure nothing is written and
 * lw_attention_last_error() says why. */
int lw_attention_forward(int B, int T, int S, int H, const lw_real *h, const lw_real *hbar,
                         const int32_t *src_len, const int32_t *tgt_len, const lw_real *w_a,
                         const lw_real *w_c, lw_real *a, lw_real *htilde);

/* The gradients of the forward above, from dhtilde (B,T,H) (rows past tgt_len
 * ignored), given the forward's inputs and its output htilde (the weights a
 * are recomputed in double rather than read back rounded).
 * Overwritten: dh (B,T,H) (zero on rows t >= tgt_len[b]), dhbar (B,S,H) (zero,
 * exactly, on steps s >= src_len[b]). Accumulated (+=, so they can sit in a
 * gradient buffer): dw_a (H,H), dw_c (H,2H); their sums over the batch run in
 * double and are added once. Needs 3H^2 + S*H + 8H + 2S doubles of scratch
 * (malloc; LW_STATUS_NO_MEMORY if that fails, nothing written). */
int lw_attention_backward(int B, int T, int S, int H, const lw_real *h, const lw_real *hbar,
                          const int32_t *src_len, const int32_t *tgt_len, const lw_real *w_a,
                          const lw_real *w_c, const lw_real *htilde,
                          const lw_real *dhtilde, lw_real *dh, lw_real *dhbar, lw_real *dw_a,
                          lw_real *dw_c);

/* Embedding lookup (nn.Embedding): out (N,E) row i = table (V,E) row ids[i];
 * an id of -1 marks padding and gives a row of zeros. Overwrites out. */
int lw_embedding_forward(int N, int V, int E, const int32_t *ids, const lw_real *table, lw_real *out);

/* Its backward: dtable (V,E) row v += sum of dout (N,E) rows i with ids[i] = v,
 * each sum in double over i in increasing order, added once (deterministic,
 * and independent of where the rows sit in the batch). Padding (-1) adds
 * nothing. Needs V + 1 + N int32 of scratch (malloc). */
int lw_embedding_backward(int N, int V, int E, const int32_t *ids, const lw_real *dout, lw_real *dtable);

/* The dense head over N rows and its softmax cross-entropy (Seq2Seq's head
 * reads h~, which no Model produces, so it cannot be a Model's own head):
 *   logits (N,O) = x (N,D) W^T + b            w (O,D), b (O), as nn.Linear
 * With target (N) non-NULL (ids in 0..O-1, or -1 for a row to ignore), loss
 * (2 doubles) gets { sum over kept rows of -log softmax(logits)[target], the
 * number of kept rows }: the caller divides, so a mean over a whole batch of
 * several calls stays exact. With dx non-NULL (and dw, db), the gradient of
 * scale x that sum: dlogits = scale (softmax - onehot) on kept rows, 0 on the
 * others; dx (N,D) = dlogits W, overwritten; dw += dlogits^T x and db +=
 * sum of dlogits rows, each summed in double over the rows and added once.
 * Softmax with exp in double (as loss.c). Needs O*D + 2*O doubles of scratch. */
int lw_head_forward_backward(int N, int D, int O, const lw_real *x, const lw_real *w, const lw_real *b,
                             const int32_t *target, double scale, lw_real *logits, double *loss, lw_real *dx,
                             lw_real *dw, lw_real *db);

/* The detail of the last failure of a function above (its own buffer: these
 * exports do not share api.c's lw_last_error yet). */
const char *lw_attention_last_error(void);

#endif
