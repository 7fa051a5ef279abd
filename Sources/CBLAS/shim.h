// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). Only the Tensor module imports this.
#include <cblas.h>
