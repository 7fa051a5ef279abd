import Dispatch
import Foundation
import Tensor

/// Random distortions of training images, drawn per image from a seeded generator: shifts, small
/// rotations and zooms, and elastic distortion (Simard, Steinkraus & Platt, 2003).
///
/// Each image gets one affine map and, when `elasticAlpha > 0`, a smooth random displacement
/// field; output pixel `p` is sampled bilinearly from the source at
/// `c + R(-θ)·(p - c - t)/s + α·G_σ * (u, v)`, where `c` is the image centre, `t` the shift,
/// `θ` the angle, `s` the zoom, and `u, v` uniform noise in [-1, 1) blurred by a Gaussian `G_σ`.
/// Points outside the image read as `background` (the normalised value of a blank pixel).
public struct Augmentation: Codable, Sendable, Hashable {
  /// Largest shift in pixels along each axis.
  public var shift: Float
  /// Largest rotation in degrees, either way.
  public var rotation: Float
  /// Largest relative zoom, either way: 0.1 draws scale factors in [0.9, 1.1].
  public var scale: Float
  /// Strength of the elastic field in pixels before smoothing; 0 turns it off.
  public var elasticAlpha: Float
  /// Width of the Gaussian that smooths the elastic field, in pixels.
  public var elasticSigma: Float
  /// How many epochs at the end of training see the images as they are, undistorted: the
  /// network finishes on the distribution it will be judged on. A training schedule, so
  /// `Trainer.fit` reads it; `apply` does not.
  public var undistortedLastEpochs: Int

  public init(
    shift: Float = 0, rotation: Float = 0, scale: Float = 0, elasticAlpha: Float = 0, elasticSigma: Float = 4,
    undistortedLastEpochs: Int = 0
  ) {
    self.shift = shift
    self.rotation = rotation
    self.scale = scale
    self.elasticAlpha = elasticAlpha
    self.elasticSigma = elasticSigma
    self.undistortedLastEpochs = undistortedLastEpochs
  }

  enum CodingKeys: String, CodingKey {
    case shift, rotation, scale
    case elasticAlpha = "elastic_alpha"
    case elasticSigma = "elastic_sigma"
    case undistortedLastEpochs = "undistorted_last_epochs"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    shift = try container.decodeIfPresent(Float.self, forKey: .shift) ?? 0
    rotation = try container.decodeIfPresent(Float.self, forKey: .rotation) ?? 0
    scale = try container.decodeIfPresent(Float.self, forKey: .scale) ?? 0
    elasticAlpha = try container.decodeIfPresent(Float.self, forKey: .elasticAlpha) ?? 0
    elasticSigma = try container.decodeIfPresent(Float.self, forKey: .elasticSigma) ?? 4
    undistortedLastEpochs = try container.decodeIfPresent(Int.self, forKey: .undistortedLastEpochs) ?? 0
  }

  /// Writes `undistorted_last_epochs` only when it is set, so the parameters (and so the cache
  /// fingerprints) of pipelines that do not use it stay what they were before it existed.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(shift, forKey: .shift)
    try container.encode(rotation, forKey: .rotation)
    try container.encode(scale, forKey: .scale)
    try container.encode(elasticAlpha, forKey: .elasticAlpha)
    try container.encode(elasticSigma, forKey: .elasticSigma)
    if undistortedLastEpochs != 0 { try container.encode(undistortedLastEpochs, forKey: .undistortedLastEpochs) }
  }

  /// Whether training distorts the images of epoch `epoch` (counted from 0) of `epochs`.
  public func distorts(epoch: Int, of epochs: Int) -> Bool {
    !isIdentity && epoch < epochs - undistortedLastEpochs
  }

  public var isIdentity: Bool { shift == 0 && rotation == 0 && scale == 0 && elasticAlpha == 0 }

  /// Distorts every row of `batch` (N, height·width) in place.
  ///
  /// One seed per image is drawn from `generator` up front, so the result does not depend on
  /// how the images are spread over threads.
  public func apply(to batch: inout Tensor, height: Int, width: Int, background: Float, using generator: inout SeededGenerator) {
    guard !isIdentity else { return }
    let pixels = height * width
    precondition(batch.columns == pixels, "augmentation expects rows of \(height)x\(width) pixels")
    let count = batch.rows
    let seeds = (0..<count).map { _ in generator.next() }
    let source = batch

    let chunkCount = min(count, max(1, ProcessInfo.processInfo.activeProcessorCount) * 2)
    let results = ChunkResults(count: chunkCount)
    DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
      let rows = (count * chunk / chunkCount)..<(count * (chunk + 1) / chunkCount)
      var warped = [Float]()
      warped.reserveCapacity(rows.count * pixels)
      for row in rows {
        var imageGenerator = SeededGenerator(seed: seeds[row])
        warped += distort(
          source.scalars[row * pixels..<(row + 1) * pixels], height: height, width: width,
          background: background, using: &imageGenerator)
      }
      results.store(warped, at: chunk)
    }
    batch.scalars = results.joined()
  }

  /// One image through one random map.
  func distort(_ image: ArraySlice<Float>, height: Int, width: Int, background: Float, using generator: inout SeededGenerator) -> [Float] {
    let angle = generator.nextFloat(in: -rotation, rotation) * .pi / 180
    let zoom = 1 + generator.nextFloat(in: -scale, scale)
    let shiftX = generator.nextFloat(in: -shift, shift)
    let shiftY = generator.nextFloat(in: -shift, shift)
    let (displacementX, displacementY) = elasticAlpha > 0
      ? (elasticField(height: height, width: width, using: &generator), elasticField(height: height, width: width, using: &generator))
      : ([], [])

    return Self.warp(
      image, angle: angle, zoom: zoom, shiftX: shiftX, shiftY: shiftY, displacement: (displacementX, displacementY),
      height: height, width: width, background: background)
  }

  /// One image through one affine map (rotation by `angle` radians and zoom about the centre,
  /// then a shift), plus a per-pixel displacement when given, sampled bilinearly.
  static func warp(
    _ image: ArraySlice<Float>, angle: Float, zoom: Float, shiftX: Float, shiftY: Float,
    displacement: (x: [Float], y: [Float]) = ([], []), height: Int, width: Int, background: Float
  ) -> [Float] {
    // The inverse map: for each output pixel, where in the source to read.
    let cosine = cos(angle) / zoom
    let sine = sin(angle) / zoom
    let centreX = Float(width - 1) / 2
    let centreY = Float(height - 1) / 2
    let base = image.startIndex
    var output = [Float](repeating: background, count: height * width)
    for y in 0..<height {
      for x in 0..<width {
        let dx = Float(x) - centreX - shiftX
        let dy = Float(y) - centreY - shiftY
        var sourceX = centreX + cosine * dx + sine * dy
        var sourceY = centreY - sine * dx + cosine * dy
        if !displacement.x.isEmpty {
          sourceX += displacement.x[y * width + x]
          sourceY += displacement.y[y * width + x]
        }
        output[y * width + x] = bilinear(image, base: base, x: sourceX, y: sourceY, height: height, width: width, background: background)
      }
    }
    return output
  }

  private static func bilinear(_ image: ArraySlice<Float>, base: Int, x: Float, y: Float, height: Int, width: Int, background: Float) -> Float {
    let x0 = Int(x.rounded(.down))
    let y0 = Int(y.rounded(.down))
    let fx = x - Float(x0)
    let fy = y - Float(y0)
    func pixel(_ px: Int, _ py: Int) -> Float {
      guard px >= 0, px < width, py >= 0, py < height else { return background }
      return image[base + py * width + px]
    }
    let top = pixel(x0, y0) * (1 - fx) + pixel(x0 + 1, y0) * fx
    let bottom = pixel(x0, y0 + 1) * (1 - fx) + pixel(x0 + 1, y0 + 1) * fx
    return top * (1 - fy) + bottom * fy
  }

  /// Uniform noise in [-1, 1) per pixel, blurred by a Gaussian of `elasticSigma` (separable,
  /// truncated at 3σ, edges clamped) and scaled by `elasticAlpha`.
  private func elasticField(height: Int, width: Int, using generator: inout SeededGenerator) -> [Float] {
    let noise = (0..<(height * width)).map { _ in generator.nextFloat(in: -1, 1) }
    let radius = max(1, Int((3 * elasticSigma).rounded(.up)))
    let weights = (-radius...radius).map { exp(-Float($0 * $0) / (2 * elasticSigma * elasticSigma)) }
    let total = weights.reduce(0, +)
    let kernel = weights.map { $0 / total * elasticAlpha.squareRoot() }  // α split over the two passes
    let horizontal = convolve(noise, with: kernel, height: height, width: width, alongRows: true)
    let field = convolve(horizontal, with: kernel, height: height, width: width, alongRows: false)
    return field
  }

  /// One pass of a separable blur: along each row (`alongRows`) or down each column, with the
  /// edge pixel repeated past the border.
  private func convolve(_ image: [Float], with kernel: [Float], height: Int, width: Int, alongRows: Bool) -> [Float] {
    let radius = kernel.count / 2
    var output = [Float](repeating: 0, count: height * width)
    for y in 0..<height {
      for x in 0..<width {
        var sum: Float = 0
        for (offset, weight) in kernel.enumerated() {
          let shift = offset - radius
          let (sourceX, sourceY) = alongRows
            ? (min(max(x + shift, 0), width - 1), y)
            : (x, min(max(y + shift, 0), height - 1))
          sum += image[sourceY * width + sourceX] * weight
        }
        output[y * width + x] = sum
      }
    }
    return output
  }
}

/// An augmentation with what it needs to know about the rows it distorts.
public struct AugmentationSetup: Sendable {
  public var augmentation: Augmentation
  public var height: Int
  public var width: Int
  /// The normalised value of a blank pixel, which is what lies outside the image.
  public var background: Float

  public init(augmentation: Augmentation, height: Int, width: Int, background: Float) {
    self.augmentation = augmentation
    self.height = height
    self.width = width
    self.background = background
  }
}

/// Per-chunk results gathered from concurrent workers, joined in chunk order.
private final class ChunkResults: @unchecked Sendable {
  private let lock = NSLock()
  private var chunks: [[Float]]

  init(count: Int) { chunks = Array(repeating: [], count: count) }

  func store(_ values: [Float], at index: Int) { lock.withLock { chunks[index] = values } }

  func joined() -> [Float] { lock.withLock { chunks.flatMap { $0 } } }
}

/// Every image (row of `images`, `height·width` pixels) rotated by `degrees` about its centre
/// (positive: as augmentation's positive angles turn it), sampled bilinearly; pixels from
/// outside are `background`. The rotated views of test-time augmentation.
/// `// (N, height·width) -> (N, height·width)`
public func rotatedImages(_ images: Tensor, height: Int, width: Int, degrees: Float, background: Float) -> Tensor {
  let pixels = height * width
  precondition(images.columns == pixels, "rotatedImages expects rows of \(height)x\(width) pixels, got \(images.shape)")
  var rotated: [Float] = []
  rotated.reserveCapacity(images.count)
  for image in 0..<images.rows {
    rotated += Augmentation.warp(
      images.scalars[(image * pixels)..<((image + 1) * pixels)], angle: degrees * .pi / 180, zoom: 1, shiftX: 0, shiftY: 0,
      height: height, width: width, background: background)
  }
  return Tensor(shape: images.shape, scalars: rotated)
}

/// Every image (row of `images`, `height·width` pixels) moved `right` pixels to the right and
/// `down` pixels down (negative: left, up); pixels moved in from outside are `background`.
/// The views of test-time augmentation. `// (N, height·width) -> (N, height·width)`
public func shiftedImages(_ images: Tensor, height: Int, width: Int, right: Int, down: Int, background: Float) -> Tensor {
  let pixels = height * width
  precondition(images.columns == pixels, "shiftedImages expects rows of \(height)x\(width) pixels, got \(images.shape)")
  var shifted = [Float](repeating: background, count: images.rows * pixels)
  // Source columns x - right for x in `columns` stay inside the image; likewise rows.
  let columns = max(0, right)..<max(max(0, right), min(width, width + right))
  let rows = max(0, down)..<max(max(0, down), min(height, height + down))
  for image in 0..<images.rows {
    let base = image * pixels
    for y in rows {
      let target = base + y * width
      let source = base + (y - down) * width - right
      for x in columns { shifted[target + x] = images.scalars[source + x] }
    }
  }
  return Tensor(shape: images.shape, scalars: shifted)
}
