// Batch normalisation kernels. A batch is viewed as (N, C, S): S = H·W for images (BatchNorm2d),
// S = 1 for feature rows (BatchNorm1d). Each channel's sums run on one thread in a fixed order
// (sixteen float lanes within a plane, Double across planes), so statistics do not depend on
// how channels are split over threads.

// MARK: - Statistics

/// Per-channel batch mean and *biased* variance over the N·S values of each channel:
/// `μ_c = 1/M Σ x`, `σ²_c = 1/M Σ (x − μ_c)²` with `M = N·S` (two passes, for accuracy).
/// `// x: (N, C, ...) -> mean: (C), variance: (C)`
public func channelMeanAndVariance(_ x: Tensor, channels c: Int) -> (mean: Tensor, variance: Tensor) {
  let (n, s) = layout(x, channels: c)
  precondition(n * s > 0, "batch statistics of an empty batch")
  let m = Double(n * s)
  var mean = Tensor(zeros: [c])
  var variance = Tensor(zeros: [c])
  let parts = x.count >= 1 << 16 ? elementwiseParts : 1
  x.scalars.withUnsafeBufferPointer { px in
    mean.scalars.withUnsafeMutableBufferPointer { pm in
      variance.scalars.withUnsafeMutableBufferPointer { pv in
        // Each worker writes its own channels.
        nonisolated(unsafe) let (x, mean, variance) = (px.baseAddress!, pm.baseAddress!, pv.baseAddress!)
        forEachPart(of: c, parts: parts) { _, channels in
          for channel in channels {
            var total = 0.0
            for image in 0..<n {
              let plane = x + (image * c + channel) * s
              total += Double(vectorSum(plane, s))
            }
            let mu = total / m
            let muF = Float(mu)
            var squares = 0.0
            for image in 0..<n {
              let plane = x + (image * c + channel) * s
              squares += Double(vectorSquaredDeviation(plane, shift: muF, s))
            }
            mean[channel] = muF
            variance[channel] = Float(squares / m)
          }
        }
      }
    }
  }
  return (mean, variance)
}

// MARK: - Normalisation

/// `y[n, c, ...] = x[n, c, ...]·scale[c] + shift[c]`: batch norm's forward once the statistics are
/// folded in (`scale = γ/√(σ² + ε)`, `shift = β − μ·scale`). `// x: (N, C, ...) -> y: same shape`
public func channelAffine(_ x: Tensor, channels c: Int, scale: Tensor, shift: Tensor) -> Tensor {
  let (n, s) = layout(x, channels: c)
  precondition(scale.count == c && shift.count == c, "channelAffine: scale and shift need \(c) values")
  guard x.count > 0 else { return x }
  let parts = x.count >= 1 << 16 ? elementwiseParts : 1
  return x.scalars.withUnsafeBufferPointer { px in
    scale.scalars.withUnsafeBufferPointer { pa in
      shift.scalars.withUnsafeBufferPointer { pb in
        Tensor(uninitializedShape: x.shape) { py in
          nonisolated(unsafe) let (x, a, b, y) = (px.baseAddress!, pa.baseAddress!, pb.baseAddress!, py.baseAddress!)
          forEachPart(of: n * c, parts: parts) { _, planes in
            for plane in planes {
              let (ac, bc) = (a[plane % c], b[plane % c])
              let (src, dst) = (x + plane * s, y + plane * s)
              for q in 0..<s { dst[q] = src[q] * ac + bc }
            }
          }
        }
      }
    }
  }
}

/// The training-mode backward pass of batch norm, `x̂ = (x − μ)·r` with `r = 1/√(σ² + ε)` from the
/// batch itself, `y = γ·x̂ + β`. Accumulates `dγ += Σ dy·x̂` and `dβ += Σ dy` per channel and returns
///
///     dx = γ·r·(dy − Σdy/M − x̂·Σ(dy·x̂)/M)      (M = N·S)
///
/// or nil when `inputGradient` is false. `// dy, x: (N, C, ...); mean, inverseStd, gamma: (C)`
public func batchNormBackward(
  _ dy: Tensor, input x: Tensor, mean: Tensor, inverseStd: Tensor, gamma: Tensor, channels c: Int,
  gammaGradient dGamma: inout Tensor, betaGradient dBeta: inout Tensor, inputGradient: Bool
) -> Tensor? {
  let (n, s) = layout(x, channels: c)
  precondition(dy.count == x.count, "batchNormBackward: dy \(dy.shape) vs x \(x.shape)")
  precondition(
    [mean.count, inverseStd.count, gamma.count, dGamma.count, dBeta.count].allSatisfy { $0 == c },
    "batchNormBackward: per-channel buffers need \(c) values")
  guard x.count > 0 else { return inputGradient ? x : nil }
  let m = Float(n * s)
  // Per channel: Σdy and Σdy·(x − μ), then the three coefficients of dx = a·dy + k1·x + k0.
  var sums = [Float](repeating: 0, count: 2 * c)
  var coefficients = [Float](repeating: 0, count: 3 * c)
  let parts = x.count >= 1 << 16 ? elementwiseParts : 1
  dy.scalars.withUnsafeBufferPointer { pdy in
    x.scalars.withUnsafeBufferPointer { px in
      mean.scalars.withUnsafeBufferPointer { pm in
        sums.withUnsafeMutableBufferPointer { ps in
          nonisolated(unsafe) let (dy, x, mu, sums) = (pdy.baseAddress!, px.baseAddress!, pm.baseAddress!, ps.baseAddress!)
          forEachPart(of: c, parts: parts) { _, channels in
            for channel in channels {
              let muC = mu[channel]
              var sumDy = 0.0, sumDyX = 0.0
              for image in 0..<n {
                let offset = (image * c + channel) * s
                let (a, b) = vectorSumAndShiftedDot(dy + offset, x + offset, shift: muC, s)
                sumDy += Double(a)
                sumDyX += Double(b)
              }
              sums[2 * channel] = Float(sumDy)
              sums[2 * channel + 1] = Float(sumDyX)
            }
          }
        }
      }
    }
  }
  for channel in 0..<c {
    let (sumDy, sumDyX) = (sums[2 * channel], sums[2 * channel + 1])
    let r = inverseStd.scalars[channel]
    dGamma.scalars[channel] += sumDyX * r
    dBeta.scalars[channel] += sumDy
    let a = gamma.scalars[channel] * r
    let b = r * r * sumDyX / m
    coefficients[3 * channel] = a
    coefficients[3 * channel + 1] = -a * b
    coefficients[3 * channel + 2] = a * (b * mean.scalars[channel] - sumDy / m)
  }
  guard inputGradient else { return nil }
  return dy.scalars.withUnsafeBufferPointer { pdy in
    x.scalars.withUnsafeBufferPointer { px in
      coefficients.withUnsafeBufferPointer { pk in
        Tensor(uninitializedShape: x.shape) { pdx in
          nonisolated(unsafe) let (dy, x, k, dx) = (pdy.baseAddress!, px.baseAddress!, pk.baseAddress!, pdx.baseAddress!)
          forEachPart(of: n * c, parts: parts) { _, planes in
            for plane in planes {
              let channel = plane % c
              let (a, k1, k0) = (k[3 * channel], k[3 * channel + 1], k[3 * channel + 2])
              let offset = plane * s
              for q in 0..<s { dx[offset + q] = a * dy[offset + q] + k1 * x[offset + q] + k0 }
            }
          }
        }
      }
    }
  }
}

/// `(N, S)` of x viewed as `(N, C, S)`.
private func layout(_ x: Tensor, channels c: Int) -> (n: Int, s: Int) {
  precondition(x.shape.count >= 2 && x.shape[1] == c, "expected (N, \(c), ...), got \(x.shape)")
  return (x.shape[0], x.shape.dropFirst(2).reduce(1, *))
}
