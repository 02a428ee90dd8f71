# node-gyp build of the ltr_native addon (oneDNN + OpenBLAS + OpenMP). Built by scripts/build-native.mjs.
{
  "targets": [
    {
      "target_name": "ltr_native",
      "sources": ["src/module.cc", "src/gemm.cc", "src/conv.cc", "src/grouped.cc", "src/conv_own.cc", "src/conv_direct.cc", "src/winograd.cc", "src/winograd512.cc", "src/elementwise.cc", "src/reduce.cc", "src/batchnorm.cc", "src/fused_bn.cc", "src/stage2.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=x86-64-v3", "-mtune=generic", "-ffp-contract=off", "-fopenmp", "-fexceptions", "-frtti"],
      "libraries": ["-ldnnl", "-lopenblas", "-fopenmp"]
    }
  ]
}
