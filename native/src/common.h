// Shared N-API plumbing of the ltr_native addon: argument reading with typed-array checks, the error wrapper
// that turns C++ exceptions into JS exceptions, and the thread settings every kernel file reads.
#pragma once
#include <node_api.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>

namespace ltr {

struct ArgError {
  std::string msg;
};

#define NAPI_OK(call)                                                   \
  do {                                                                  \
    if ((call) != napi_ok) throw ArgError{"N-API call failed: " #call}; \
  } while (0)

struct Args {
  napi_env env;
  size_t argc = 16;
  napi_value argv[16];
  Args(napi_env e, napi_callback_info info) : env(e) {
    NAPI_OK(napi_get_cb_info(e, info, &argc, argv, nullptr, nullptr));
  }

  napi_value at(size_t i) const {
    if (i >= argc) throw ArgError{"missing argument #" + std::to_string(i)};
    return argv[i];
  }
  int64_t i64(size_t i) const {
    int64_t v;
    if (napi_get_value_int64(env, at(i), &v) != napi_ok)
      throw ArgError{"argument #" + std::to_string(i) + " must be a number"};
    return v;
  }
  double f64(size_t i) const {
    double v;
    if (napi_get_value_double(env, at(i), &v) != napi_ok)
      throw ArgError{"argument #" + std::to_string(i) + " must be a number"};
    return v;
  }
  bool isNull(size_t i) const {
    napi_valuetype t;
    NAPI_OK(napi_typeof(env, at(i), &t));
    return t == napi_null || t == napi_undefined;
  }
  // Pointer into a typed array (byte offset already applied by N-API) plus its element count.
  template <typename T>
  T* arr(size_t i, size_t* len = nullptr, bool nullable = false) const {
    if (nullable && isNull(i)) {
      if (len) *len = 0;
      return nullptr;
    }
    bool is;
    NAPI_OK(napi_is_typedarray(env, at(i), &is));
    if (!is) throw ArgError{"argument #" + std::to_string(i) + " must be a typed array"};
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t off;
    NAPI_OK(napi_get_typedarray_info(env, at(i), &type, &length, &data, &ab, &off));
    const napi_typedarray_type want = std::is_same<T, float>::value    ? napi_float32_array
                                      : std::is_same<T, double>::value ? napi_float64_array
                                                                       : napi_int32_array;
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value || std::is_same<T, int32_t>::value,
                  "typed arrays of float, double or int32 only");
    if (type != want) {
      const char* name = want == napi_float32_array   ? "a Float32Array"
                         : want == napi_float64_array ? "a Float64Array"
                                                      : "an Int32Array";
      throw ArgError{"argument #" + std::to_string(i) + " must be " + name};
    }
    if (len) *len = length;
    return static_cast<T*>(data);
  }
};

inline napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// Wrap a C++ body so that argument errors and library errors become JS exceptions instead of aborting Node.
template <typename F>
napi_value guarded(napi_env env, const char* name, F&& body) {
  try {
    return body();
  } catch (const ArgError& e) {
    napi_throw_error(env, nullptr, (std::string("ltr_native.") + name + ": " + e.msg).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string("ltr_native.") + name + ": " + e.what()).c_str());
  }
  return nullptr;
}

// Thread count for OpenMP loops, oneDNN and OpenBLAS (set by setThreads; default 2). Our own kernels give the same
// bits for every thread count (docs/DETERMINISM.md); it only changes their speed.
extern int g_threads;

// Numerics mode (set by setNumerics): deterministic (default) or fast.
enum Numerics { kDeterministic = 0, kFast = 1 };
extern int g_numerics;

// Vector width of our own kernels (set when the addon loads; setKernelIsa, LTR_KERNEL_ISA=avx2). kIsaAvx512 runs
// the AVX-512 forms of the register blocks where they exist. They compute every output element with the same
// sequence of roundings as the AVX2 forms (one FMA chain per element, in the same order), so the choice changes the
// speed, never a result (docs/DETERMINISM.md, "AVX2 and AVX-512").
enum KernelIsa { kIsaAvx2 = 0, kIsaAvx512 = 1 };
extern int g_kernelIsa;

// OpenBLAS's thread count under deterministic numerics (its results depend on it; ours do not).
constexpr int kDeterministicBlasThreads = 2;

// Loops below this many elements run on one thread: the OpenMP fork/join (~2-5 us) outweighs the work.
constexpr int64_t kParallelMin = 1 << 15;

// Work sharing in the hot loops (docs/PERFORMANCE.md, "Two threads" and "Guided, not dynamic"): OpenMP's guided
// schedule, not a static split into one equal range per thread. A thread that joins a parallel region late (the
// worker woken from sleep after the JS main thread ran between kernels, or preempted by another process) then no
// longer holds up the whole region: the other threads take the chunks it has not started. Guided rather than
// dynamic because every hand-out is an atomic update of one counter that the cores pass between them: the first
// chunks are large (half of what is left, split between the threads) and shrink to the minimum given, so a region
// makes a few dozen hand-outs instead of hundreds or thousands (ResNet-8's step at two threads: 48.6 -> 40.9 ms).
// Which thread computes an element changes, never how (docs/DETERMINISM.md): each output element and each partial
// sum is still computed by one thread, in an order fixed by the shape alone.
//
// Elements in the smallest chunk of an element-wise loop: large enough that a hand-out costs nothing measurable.
constexpr int64_t kChunkElems = 1 << 14;

// Rows in the smallest chunk of a loop over rows of `rowElems` elements (at least one row).
inline int64_t chunkRows(int64_t rowElems) {
  return std::max<int64_t>(1, kChunkElems / std::max<int64_t>(1, rowElems));
}

}  // namespace ltr
