// The sequential part of one LSTM layer (batch-last) as XLA FFI custom calls for the CPU; loaded
// and wrapped by lstm_native.py, built by the Makefile (g++ -O3 -march=native).
//
// Why: on one core both detectors spend their time in the loop over time steps, and XLA runs that
// loop as a dozen small kernels per step (two matmul library calls, several gate fusions, the
// residual writes). Here a whole sequence is one call and a step is one register-blocked matmul
// with the gates fused after it. Measured in BENCHMARKS.md "Seq2seq"; tests hold it to the JAX
// kernel in lstm_kernel.py (values and gradients).
//
// Layout as in lstm_kernel.py: x (T, F, B), wi (F, 4U), wh (U, 4U), b (4U), gates i, f, g, o, zero
// initial state; h sequence (T, U, B). The training forward also writes the residuals the backward
// step multiplies with, [o(1-tc^2), g i(1-i), c_prev f(1-f), i(1-g^2), tc o(1-o), f], as
// (T, 6U, Bp) with Bp = B rounded up to kW: only the backward calls below read them. For narrow
// layers (the stacked LSTM's) the backward returns the layer's gradients: dx (T, F, B), dwi, dwh and
// db (the weight gradients summed over all steps after the time loop); for wide ones (the seq2seq's)
// dz (T, 4U, B), and XLA's matmuls make the weight and input gradients, faster there. A call with
// enough work runs the two halves of its batch (and of the weight gradients' rows) on two threads
// (over_columns below).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <thread>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

constexpr int kW = 16;  // floats per vector: one AVX-512 register, two AVX2 ones (GCC splits)
typedef float vf __attribute__((vector_size(kW * 4)));

inline vf splat(float a) { return a - vf{}; }  // a - 0 is a exactly (a + 0 is not, for -0)

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

// 1 / d for d > 0: AVX-512's 14-bit reciprocal estimate and one Newton step (~2^-28 relative).
inline vf recip(vf d) {
#if defined(__AVX512F__)
  vf r = reinterpret_cast<vf>(_mm512_rcp14_ps(reinterpret_cast<__m512>(d)));
  return r * (splat(2.0f) - d * r);
#else
  return splat(1.0f) / d;
#endif
}

// Clamped to [-c, c], NaN kept (the comparisons are false for NaN).
inline vf clamp(vf x, float c) {
  x = x > splat(c) ? splat(c) : x;
  return x < splat(-c) ? splat(-c) : x;
}

#if defined(__AVX512F__)
// e^(K x), K = -1 or -2, |x| <= 40 / |K|: n = round(K x / ln2), r = K x - n ln2 (in two parts), a
// degree-6 polynomial for e^r, and AVX-512's scalef for the 2^n. Eleven instructions.
template <int K>
inline vf exp_scaled(vf v) {
  __m512 x = reinterpret_cast<__m512>(clamp(v, 40.0f / (K < 0 ? -K : K)));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(K * 1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), _mm512_mul_ps(x, _mm512_set1_ps(float(K))));
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return reinterpret_cast<vf>(_mm512_scalef_ps(p, n));
}

inline vf vsigmoid(vf x) { return recip(splat(1.0f) + exp_scaled<-1>(x)); }
inline vf vtanh(vf x) { return splat(2.0f) * recip(splat(1.0f) + exp_scaled<-2>(x)) - splat(1.0f); }
#else
// tanh as Eigen's (and XLA's CPU) rational approximation: odd degree 13 over even degree 6, the
// input clamped where float tanh is +-1. Max abs error 3.6e-7 on [-20, 20] (tests check the layer).
inline vf vtanh(vf a) {
  vf x = clamp(a, 7.90531110763549805f);
  vf x2 = x * x;
  vf p = x2 * splat(-2.76076847742355e-16f) + splat(2.00018790482477e-13f);
  p = x2 * p + splat(-8.60467152213735e-11f);
  p = x2 * p + splat(5.12229709037114e-08f);
  p = x2 * p + splat(1.48572235717979e-05f);
  p = x2 * p + splat(6.37261928875436e-04f);
  p = x2 * p + splat(4.89352455891786e-03f);
  vf q = x2 * splat(1.19825839466702e-06f) + splat(1.18534705686654e-04f);
  q = x2 * q + splat(2.26843463243900e-03f);
  q = x2 * q + splat(4.89352518554385e-03f);
  return x * p * recip(q);
}

inline vf vsigmoid(vf x) { return splat(0.5f) + splat(0.5f) * vtanh(x * splat(0.5f)); }
#endif

// The first n (< kW) floats at p, the rest zero; and the converse store. AVX-512 has masked moves
// for this; elsewhere a short loop (a memcpy of a runtime length is a libc call per row).
inline vf load_part(const float* p, int n) {
#if defined(__AVX512F__)
  return reinterpret_cast<vf>(_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p));
#else
  vf v = {};
  for (int i = 0; i < n; ++i) v[i] = p[i];
  return v;
#endif
}

inline void store_part(float* p, vf v, int n) {
#if defined(__AVX512F__)
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), reinterpret_cast<__m512>(v));
#else
  for (int i = 0; i < n; ++i) p[i] = v[i];
#endif
}

// rows x nb vectors, zeroed: the state and the step's operands, batch padded to nb * kW.
struct Scratch {
  std::vector<vf> data;
  int nb;
  Scratch(int rows, int nb_) : data(static_cast<size_t>(rows) * nb_, vf{}), nb(nb_) {}
  vf* row(int r) { return data.data() + static_cast<size_t>(r) * nb; }
};

inline void load_row(vf* dst, const float* src, int b, int nb) {
  for (int j = 0; j < nb; ++j) {
    int n = b - j * kW;
    dst[j] = n >= kW ? load(src + j * kW) : load_part(src + j * kW, n);
  }
}

inline void store_row(float* dst, const vf* src, int b, int nb) {
  for (int j = 0; j < nb; ++j) {
    int n = b - j * kW;
    if (n >= kW) {
      store(dst + j * kW, src[j]);
    } else {
      store_part(dst + j * kW, src[j], n);
    }
  }
}

// out rows r0..r0+R, vector columns j..j+C = bias + sum_k w[k * ldk + r] * in[k]: R x C
// accumulators in registers; weights k-major (the JAX layout), so one k's R weights are adjacent.
template <int R, int C>
inline void block(const float* w, int ldk, int k_n, Scratch& in, int j, const float* bias, Scratch& out,
                  int r0) {
  vf acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = splat(bias ? bias[r0 + r] : 0.0f);
  for (int k = 0; k < k_n; ++k) {
    const vf* v = in.row(k) + j;
    vf vv[C];
    for (int c = 0; c < C; ++c) vv[c] = v[c];
    for (int r = 0; r < R; ++r) {
      vf wr = splat(w[k * ldk + r0 + r]);
      for (int c = 0; c < C; ++c) acc[r][c] += wr * vv[c];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) out.row(r0 + r)[j + c] = acc[r][c];
}

template <int C>
inline void matmul_columns(const float* w, const float* bias, int n_rows, int k_n, Scratch& in,
                           Scratch& out, int j) {
  int r = 0;
  for (; r + 8 <= n_rows; r += 8) block<8, C>(w, n_rows, k_n, in, j, bias, out, r);
  for (; r + 4 <= n_rows; r += 4) block<4, C>(w, n_rows, k_n, in, j, bias, out, r);
  for (; r < n_rows; ++r) block<1, C>(w, n_rows, k_n, in, j, bias, out, r);
}

// out (n_rows, nb) = bias + w^T in, with w (k_n, n_rows) row-major; bias may be null.
void matmul(const float* w, const float* bias, int n_rows, int k_n, Scratch& in, Scratch& out) {
  int j = 0;
  for (; j + 2 <= in.nb; j += 2) matmul_columns<2>(w, bias, n_rows, k_n, in, out, j);
  for (; j < in.nb; ++j) matmul_columns<1>(w, bias, n_rows, k_n, in, out, j);
}

// m (rows, cols) row-major, transposed: the k-major weights of the product with m's rows as outputs.
std::vector<float> transposed(const float* m, int rows, int cols) {
  std::vector<float> out(static_cast<size_t>(rows) * cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) out[static_cast<size_t>(c) * rows + r] = m[static_cast<size_t>(r) * cols + c];
  return out;
}

template <typename Dims>
bool is_shape(const Dims& d, std::initializer_list<int64_t> want) {
  if (d.size() != want.size()) return false;
  size_t i = 0;
  for (int64_t w : want)
    if (d[i++] != w) return false;
  return true;
}

// A call's batch columns are independent: with XLA's intra-op pool at two or more threads and enough
// work, the second half of the vector columns runs as a pool task while the calling thread runs the
// first. The caller claims the task itself if no pool thread has started it, so it never waits on
// a task stuck behind other work in the pool (XLA may run this call on a pool thread, and a pool of
// one runs tasks inline). Each column's arithmetic is the same either way, so the results are too.
constexpr double kSplitWork = 4e6;  // multiply-adds per call below which a split costs more than it saves

struct SplitTask {
  std::atomic<bool> claimed{false};
  std::atomic<bool> done{false};
};

std::atomic<int64_t> g_split_calls{0};  // calls that split, for the tests (spear_lstm_split_calls)
std::atomic<bool> g_split{true};  // off: one thread per call whatever the pool (lstm_native.split_columns)

// run(j0, n) for vector columns [j0, j0 + n); on one or two threads.
template <typename Run>
void over_columns(ffi::ThreadPool& pool, int nb, double work, const Run& run) {
  if (nb < 2 || work < kSplitWork || !g_split.load(std::memory_order_relaxed) || pool.num_threads() < 2) {
    run(0, nb);
    return;
  }
  g_split_calls.fetch_add(1, std::memory_order_relaxed);
  const int half = (nb + 1) / 2;
  auto task = std::make_shared<SplitTask>();
  const Run* second = &run;  // dereferenced only while this call waits below
  pool.Schedule([task, second, half, nb] {
    if (task->claimed.exchange(true)) return;
    (*second)(half, nb - half);
    task->done.store(true, std::memory_order_release);
  });
  run(0, half);
  if (!task->claimed.exchange(true)) {
    run(half, nb - half);
    return;
  }
  while (!task->done.load(std::memory_order_acquire)) std::this_thread::yield();
}

// One sequence for vector columns [j0, j0 + nbl) of nb: w is [wi; wh] (K, G), k-major.
template <bool kSave>
void forward_columns(const float* xp, const float* w, const float* bias, float* hp, float* res, int T, int F,
                     int U, int B, int nb, int j0, int nbl) {
  const int G = 4 * U, K = F + U, off = j0 * kW, bl = std::min(B - off, nbl * kW);
  Scratch in(K, nbl), z(G, nbl), c(U, nbl);
  const vf one = splat(1.0f);
  const size_t block_stride = static_cast<size_t>(U) * nb * kW;
  for (int t = 0; t < T; ++t) {
    for (int k = 0; k < F; ++k) load_row(in.row(k), xp + (static_cast<size_t>(t) * F + k) * B + off, bl, nbl);
    matmul(w, bias, G, K, in, z);
    for (int u = 0; u < U; ++u) {
      vf* hrow = in.row(F + u);
      vf* crow = c.row(u);
      for (int j = 0; j < nbl; ++j) {
        vf i = vsigmoid(z.row(u)[j]), f = vsigmoid(z.row(U + u)[j]);
        vf g = vtanh(z.row(2 * U + u)[j]), o = vsigmoid(z.row(3 * U + u)[j]);
        vf c_prev = crow[j];
        vf cn = f * c_prev + i * g;
        vf tc = vtanh(cn);
        crow[j] = cn;
        hrow[j] = o * tc;
        if constexpr (kSave) {
          float* dst = res + (static_cast<size_t>(t) * 6 * U + u) * nb * kW + (j0 + j) * kW;
          store(dst, o * (one - tc * tc));
          store(dst + block_stride, g * i * (one - i));
          store(dst + 2 * block_stride, c_prev * f * (one - f));
          store(dst + 3 * block_stride, i * (one - g * g));
          store(dst + 4 * block_stride, tc * o * (one - o));
          store(dst + 5 * block_stride, f);
        }
      }
      store_row(hp + (static_cast<size_t>(t) * U + u) * B + off, hrow, bl, nbl);
    }
  }
}

template <bool kSave>
ffi::Error Forward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> wi,
                   ffi::Buffer<ffi::F32> wh, ffi::Buffer<ffi::F32> b, ffi::ResultBuffer<ffi::F32> hs_out,
                   ffi::ResultBuffer<ffi::F32>* res_out) {
  auto xd = x.dimensions();
  if (xd.size() != 3 || wh.dimensions().size() != 2) {
    return ffi::Error::InvalidArgument("lstm forward: x must be (T, F, B) and wh (U, 4U)");
  }
  const int T = xd[0], F = xd[1], B = xd[2];
  const int U = wh.dimensions()[0], G = 4 * U, K = F + U;
  const int nb = (B + kW - 1) / kW;
  if (!is_shape(wh.dimensions(), {U, G}) || !is_shape(wi.dimensions(), {F, G}) ||
      !is_shape(b.dimensions(), {G}) || !is_shape(hs_out->dimensions(), {T, U, B}) ||
      (kSave && !is_shape((*res_out)->dimensions(), {T, 6 * U, nb * kW}))) {
    return ffi::Error::InvalidArgument("lstm forward: shapes do not fit x (T, F, B) and wh (U, 4U)");
  }
  float* res = kSave ? (*res_out)->typed_data() : nullptr;
  // [wi; wh] as one (K, G) matrix: the step's input is [x_t; h_(t-1)].
  std::vector<float> w(static_cast<size_t>(K) * G);
  std::memcpy(w.data(), wi.typed_data(), sizeof(float) * F * G);
  std::memcpy(w.data() + static_cast<size_t>(F) * G, wh.typed_data(), sizeof(float) * U * G);
  const float* xp = x.typed_data();
  const float* bias = b.typed_data();
  float* hp = hs_out->typed_data();
  over_columns(pool, nb, static_cast<double>(T) * K * G * nb * kW, [&](int j0, int nbl) {
    forward_columns<kSave>(xp, w.data(), bias, hp, res, T, F, U, B, nb, j0, nbl);
  });
  return ffi::Error::Success();
}

ffi::Error ForwardTrainImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> wi,
                            ffi::Buffer<ffi::F32> wh, ffi::Buffer<ffi::F32> b, ffi::ResultBuffer<ffi::F32> hs,
                            ffi::ResultBuffer<ffi::F32> res) {
  return Forward<true>(pool, x, wi, wh, b, hs, &res);
}

ffi::Error ForwardImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> wi,
                       ffi::Buffer<ffi::F32> wh, ffi::Buffer<ffi::F32> b, ffi::ResultBuffer<ffi::F32> hs) {
  return Forward<false>(pool, x, wi, wh, b, hs, nullptr);
}

// Backward through time for vector columns [j0, j0 + nbl) of nb: dz_t from dh_out_t, the residuals
// and what step t+1 sends back (dh = wh dz_(t+1), dc = dc_(t+1) f_(t+1)); wt is wh transposed. It
// also writes the input gradient dx_t = wi dz_t (wit: wi transposed) from the same dz.
// Without wit (nullptr) it writes dz only, as (T, 4U, B) rows; with it, dz as rows of nb whole vectors
// (zero-padded, for the weight gradients) and dx_t too.
void backward_columns(const float* dp, const float* rp, const float* wt, const float* wit, float* zp, float* xg,
                      int T, int F, int U, int B, int nb, int j0, int nbl) {
  const int G = 4 * U, off = j0 * kW, bl = std::min(B - off, nbl * kW);
  Scratch dz(G, nbl), dh_next(U, nbl), dc_next(U, nbl), dh_out(U, nbl), dx(F, nbl);
  for (int t = T - 1; t >= 0; --t) {
    const float* rt = rp + static_cast<size_t>(t) * 6 * U * nb * kW;
    auto r = [&](int q, int j) { return load(rt + (static_cast<size_t>(q) * nb + j0 + j) * kW); };
    for (int u = 0; u < U; ++u) load_row(dh_out.row(u), dp + (static_cast<size_t>(t) * U + u) * B + off, bl, nbl);
    for (int u = 0; u < U; ++u) {
      for (int j = 0; j < nbl; ++j) {
        vf dh = dh_out.row(u)[j] + dh_next.row(u)[j];
        vf dc = dc_next.row(u)[j] + dh * r(u, j);
        dz.row(u)[j] = dc * r(U + u, j);
        dz.row(U + u)[j] = dc * r(2 * U + u, j);
        dz.row(2 * U + u)[j] = dc * r(3 * U + u, j);
        dz.row(3 * U + u)[j] = dh * r(4 * U + u, j);
        dc_next.row(u)[j] = dc * r(5 * U + u, j);
      }
    }
    const size_t stride = wit ? static_cast<size_t>(nb) * kW : static_cast<size_t>(B);
    for (int g = 0; g < G; ++g) store_row(zp + (static_cast<size_t>(t) * G + g) * stride + off, dz.row(g), bl, nbl);
    matmul(wt, nullptr, U, G, dz, dh_next);
    if (wit) {
      matmul(wit, nullptr, F, G, dz, dx);
      for (int f = 0; f < F; ++f) store_row(xg + (static_cast<size_t>(t) * F + f) * B + off, dx.row(f), bl, nbl);
    }
  }
}

// dz through time only (T, 4U, B), for layers whose weight gradients XLA computes faster (wide ones).
ffi::Error BackwardImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> dhs, ffi::Buffer<ffi::F32> res,
                        ffi::Buffer<ffi::F32> wh, ffi::ResultBuffer<ffi::F32> dzs) {
  auto d = dhs.dimensions();
  if (d.size() != 3) return ffi::Error::InvalidArgument("lstm backward: dhs must be (T, U, B)");
  const int T = d[0], U = d[1], B = d[2], G = 4 * U;
  const int nb = (B + kW - 1) / kW;
  if (!is_shape(wh.dimensions(), {U, G}) || !is_shape(res.dimensions(), {T, 6 * U, nb * kW}) ||
      !is_shape(dzs->dimensions(), {T, G, B})) {
    return ffi::Error::InvalidArgument("lstm backward: shapes do not fit dhs (T, U, B)");
  }
  std::vector<float> wt = transposed(wh.typed_data(), U, G);
  const float* dp = dhs.typed_data();
  const float* rp = res.typed_data();
  float* zp = dzs->typed_data();
  over_columns(pool, nb, static_cast<double>(T) * G * U * nb * kW, [&](int j0, int nbl) {
    backward_columns(dp, rp, wt.data(), nullptr, zp, nullptr, T, 0, U, B, nb, j0, nbl);
  });
  return ffi::Error::Success();
}

// dw[k][g] (rows k0..k0+R, columns g0..g0+C) = sum over t and batch of a_t[k] dz_t[g]: R x C vector
// accumulators over the batch lanes, summed across lanes once at the end. a (T, K, nb vectors) and
// z (T, G, nb vectors) are padded with zeros, so every load is a whole vector.
template <int R, int C>
inline void outer_block(const float* a, const float* z, int T, int K, int G, int nb, int k0, int g0, float* dw) {
  vf acc[R][C] = {};
  const size_t row = static_cast<size_t>(nb) * kW;
  for (int t = 0; t < T; ++t) {
    const float* at = a + (static_cast<size_t>(t) * K + k0) * row;
    const float* zt = z + (static_cast<size_t>(t) * G + g0) * row;
    for (int j = 0; j < nb; ++j) {
      vf av[R], zv[C];
      for (int r = 0; r < R; ++r) av[r] = load(at + r * row + j * kW);
      for (int c = 0; c < C; ++c) zv[c] = load(zt + c * row + j * kW);
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) acc[r][c] += av[r] * zv[c];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float s = 0.0f;
      for (int l = 0; l < kW; ++l) s += acc[r][c][l];
      dw[static_cast<size_t>(k0 + r) * G + g0 + c] = s;
    }
}

// Rows [k0, k0 + kn) of dw (K, G) = sum_t a_t dz_t^T, in blocks of 4 x 4 (then 1-row, 1-column edges).
void outer_rows(const float* a, const float* z, int T, int K, int G, int nb, int k0, int kn, float* dw) {
  int k = k0;
  for (; k + 4 <= k0 + kn; k += 4) {
    int g = 0;
    for (; g + 4 <= G; g += 4) outer_block<4, 4>(a, z, T, K, G, nb, k, g, dw);
    for (; g < G; ++g) outer_block<4, 1>(a, z, T, K, G, nb, k, g, dw);
  }
  for (; k < k0 + kn; ++k) {
    int g = 0;
    for (; g + 4 <= G; g += 4) outer_block<1, 4>(a, z, T, K, G, nb, k, g, dw);
    for (; g < G; ++g) outer_block<1, 1>(a, z, T, K, G, nb, k, g, dw);
  }
}

// The whole backward pass of a layer in one call: dz through time, the input
// gradient dx beside it, then the weight gradients dwi = sum_t x_t dz_t^T, dwh = sum_t h_(t-1) dz_t^T
// and db = sum_t dz_t 1 (the row of ones of lstm_kernel.parameter_gradients). In XLA those three
// products were most of a stacked-LSTM chunk's backward time (BENCHMARKS.md "lstm_native").
ffi::Error GradsImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> dhs, ffi::Buffer<ffi::F32> res,
                     ffi::Buffer<ffi::F32> wh, ffi::Buffer<ffi::F32> wi, ffi::Buffer<ffi::F32> x,
                     ffi::Buffer<ffi::F32> hs, ffi::ResultBuffer<ffi::F32> dx_out,
                     ffi::ResultBuffer<ffi::F32> dwi_out, ffi::ResultBuffer<ffi::F32> dwh_out,
                     ffi::ResultBuffer<ffi::F32> db_out) {
  auto d = dhs.dimensions();
  if (d.size() != 3 || x.dimensions().size() != 3) {
    return ffi::Error::InvalidArgument("lstm grads: dhs must be (T, U, B) and x (T, F, B)");
  }
  const int T = d[0], U = d[1], B = d[2], G = 4 * U, F = x.dimensions()[1];
  const int nb = (B + kW - 1) / kW;
  if (!is_shape(wh.dimensions(), {U, G}) || !is_shape(res.dimensions(), {T, 6 * U, nb * kW}) ||
      !is_shape(wi.dimensions(), {F, G}) || !is_shape(x.dimensions(), {T, F, B}) ||
      !is_shape(hs.dimensions(), {T, U, B}) || !is_shape(dx_out->dimensions(), {T, F, B}) ||
      !is_shape(dwi_out->dimensions(), {F, G}) || !is_shape(dwh_out->dimensions(), {U, G}) ||
      !is_shape(db_out->dimensions(), {G})) {
    return ffi::Error::InvalidArgument("lstm grads: shapes do not fit dhs (T, U, B) and x (T, F, B)");
  }
  std::vector<float> wt = transposed(wh.typed_data(), U, G), wit = transposed(wi.typed_data(), F, G);
  // dz_t and [x_t; h_(t-1); 1] as zero-padded rows of nb vectors (only the first B floats are written)
  const size_t row = static_cast<size_t>(nb) * kW;
  const int K = F + U + 1;
  std::vector<float> zs(static_cast<size_t>(T) * G * row, 0.0f), cat(static_cast<size_t>(T) * K * row, 0.0f);
  const float* dp = dhs.typed_data();
  const float* rp = res.typed_data();
  float* xg = dx_out->typed_data();
  over_columns(pool, nb, static_cast<double>(T) * G * (U + F) * nb * kW, [&](int j0, int nbl) {
    backward_columns(dp, rp, wt.data(), wit.data(), zs.data(), xg, T, F, U, B, nb, j0, nbl);
  });
  const float* xp = x.typed_data();
  const float* hp = hs.typed_data();
  for (int t = 0; t < T; ++t) {
    float* ct = cat.data() + static_cast<size_t>(t) * K * row;
    for (int f = 0; f < F; ++f) std::memcpy(ct + f * row, xp + (static_cast<size_t>(t) * F + f) * B, sizeof(float) * B);
    if (t > 0)  // h_(-1) is zero
      for (int u = 0; u < U; ++u)
        std::memcpy(ct + (F + u) * row, hp + (static_cast<size_t>(t - 1) * U + u) * B, sizeof(float) * B);
    std::fill(ct + (K - 1) * row, ct + (K - 1) * row + B, 1.0f);
  }
  std::vector<float> dw(static_cast<size_t>(K) * G);
  over_columns(pool, K, static_cast<double>(T) * K * G * nb * kW, [&](int k0, int kn) {
    outer_rows(cat.data(), zs.data(), T, K, G, nb, k0, kn, dw.data());
  });
  std::memcpy(dwi_out->typed_data(), dw.data(), sizeof(float) * F * G);
  std::memcpy(dwh_out->typed_data(), dw.data() + static_cast<size_t>(F) * G, sizeof(float) * U * G);
  std::memcpy(db_out->typed_data(), dw.data() + static_cast<size_t>(F + U) * G, sizeof(float) * G);
  return ffi::Error::Success();
}

}  // namespace

namespace {
using F32 = ffi::Buffer<ffi::F32>;

// What the three calls take first: XLA's pool, then three float buffers.
auto pool_and_three() { return ffi::Ffi::Bind().Ctx<ffi::ThreadPool>().Arg<F32>().Arg<F32>().Arg<F32>(); }
}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpearLstmForwardTrain, ForwardTrainImpl,
                              pool_and_three().Arg<F32>().Ret<F32>().Ret<F32>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(SpearLstmForward, ForwardImpl, pool_and_three().Arg<F32>().Ret<F32>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(SpearLstmBackward, BackwardImpl, pool_and_three().Ret<F32>());
XLA_FFI_DEFINE_HANDLER_SYMBOL(SpearLstmGrads, GradsImpl,
                              pool_and_three().Arg<F32>().Arg<F32>().Arg<F32>().Ret<F32>().Ret<F32>().Ret<F32>()
                                  .Ret<F32>());

extern "C" void spear_lstm_set_split(int on) { g_split.store(on != 0, std::memory_order_relaxed); }

// How many calls split their columns across two threads since the library was loaded (for the tests).
extern "C" int64_t spear_lstm_split_calls() { return g_split_calls.load(std::memory_order_relaxed); }
