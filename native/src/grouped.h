// Direct forward kernel for grouped convolutions with 1, 2 or 4 channels per group (ResNeXt 32x4d's first stage).
#pragma once

namespace ltr {

// Forward grouped convolution, NHWC x [N,H,W,C], filter [KH,KW,C/G,OC] (tfjs layout, output channel g·OC/G + j),
// y [N,OH,OW,OC]; p is the 18-integer parameter block of the `conv` entry point (the last one is G). Returns false
// without touching y when the shape is not one this kernel covers (then oneDNN computes it).
bool groupedForwardDirect(const int* p, const float* x, const float* w, float* y);

}  // namespace ltr
