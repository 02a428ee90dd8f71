// Every N-API entry point of the addon, by the file that defines it; module.cc registers them under their JS names.
#pragma once
#include <node_api.h>

namespace ltr {

// module.cc
napi_value SetThreads(napi_env env, napi_callback_info info);
napi_value SetNumerics(napi_env env, napi_callback_info info);
napi_value Info(napi_env env, napi_callback_info info);
napi_value SetKernelIsa(napi_env env, napi_callback_info info);

// gemm.cc
napi_value Sgemm(napi_env env, napi_callback_info info);

// conv.cc
napi_value Conv(napi_env env, napi_callback_info info);

// conv_direct.cc (direct kernels) + winograd.cc
napi_value ConvOwn(napi_env env, napi_callback_info info);
napi_value ConvBnEval(napi_env env, napi_callback_info info);

// elementwise.cc
napi_value Binary(napi_env env, napi_callback_info info);
napi_value Unary(napi_env env, napi_callback_info info);
napi_value SqDiffGrad(napi_env env, napi_callback_info info);
napi_value SgdStepF32(napi_env env, napi_callback_info info);

// reduce.cc
napi_value Reduce(napi_env env, napi_callback_info info);
napi_value ArgMaxRows(napi_env env, napi_callback_info info);
napi_value SegmentSum(napi_env env, napi_callback_info info);

// batchnorm.cc
napi_value BatchNorm(napi_env env, napi_callback_info info);
napi_value BnMoments(napi_env env, napi_callback_info info);
napi_value BnTrainGrad(napi_env env, napi_callback_info info);
napi_value BnGrad(napi_env env, napi_callback_info info);

// fused_bn.cc
napi_value BnActForward(napi_env env, napi_callback_info info);
napi_value BnActBackward(napi_env env, napi_callback_info info);
napi_value BnRunning(napi_env env, napi_callback_info info);

// stage2.cc
napi_value SoftmaxXentGrad(napi_env env, napi_callback_info info);
napi_value SgdMomentumStep(napi_env env, napi_callback_info info);
napi_value ScaledArgMax(napi_env env, napi_callback_info info);
napi_value ClassSums64(napi_env env, napi_callback_info info);
napi_value NormalizeRows(napi_env env, napi_callback_info info);

}  // namespace ltr
