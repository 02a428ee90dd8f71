# node-gyp build of the ltr_native addon (oneDNN + OpenBLAS + OpenMP). Built by scripts/build-native.mjs.
{
  "targets": [
    {
      "target_name": "ltr_native",
      "sources": ["src/module.cc", "src/gemm.cc", "src/conv.cc", "src/grouped.cc", "src/elementwise.cc", "src/reduce.cc", "src/batchnorm.cc", "src/stage2.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fopenmp", "-fexceptions", "-frtti"],
      "libraries": ["-ldnnl", "-lopenblas", "-fopenmp"]
    }
  ]
}
