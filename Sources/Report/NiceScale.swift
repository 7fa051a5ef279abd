import Foundation

/// An axis range widened to round numbers, with ticks in steps of 1, 2 or 5 times a power of ten
/// (Heckbert's "nice numbers"), so a reader sees 0.90, 0.92, … and not 0.9137, 0.9274, ….
struct NiceScale: Equatable, Sendable {
  /// The axis runs from `lower` to `upper`; both are multiples of `step` and cover the data.
  var lower: Double
  var upper: Double
  var step: Double

  /// The smallest nice range covering `minimum...maximum` with about `targetTicks` intervals.
  /// `integerSteps` keeps the step at 1 or more, for counts such as epochs. An empty or
  /// non-finite range is widened so the axis still has something to show.
  init(covering minimum: Double, _ maximum: Double, targetTicks: Int = 5, integerSteps: Bool = false) {
    var low = minimum.isFinite ? minimum : 0
    var high = maximum.isFinite ? maximum : 1
    if low > high { swap(&low, &high) }
    if high - low < 1e-12 {
      let pad = low == 0 ? 1 : abs(low) * 0.1
      low -= pad
      high += pad
    }
    // The nice number nearest the rough step (Heckbert's rounding), so the tick count lands
    // near the target from either side instead of always below it.
    let rough = (high - low) / Double(max(targetTicks - 1, 1))
    let magnitude = pow(10, floor(log10(rough)))
    let fraction = rough / magnitude
    let multiple: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
    step = multiple * magnitude
    if integerSteps { step = max(step, 1) }
    // A small tolerance, so data at 0.3000000004 does not grow an extra step.
    lower = floor(low / step + 1e-9) * step
    upper = ceil(high / step - 1e-9) * step
  }

  /// `lower`, `lower + step`, … `upper`, each computed from its index so errors do not add up.
  var ticks: [Double] {
    let count = Int(((upper - lower) / step).rounded())
    return (0...count).map { lower + Double($0) * step }
  }

  /// Digits after the point that tell the ticks apart: 0 for a step of 5, 2 for 0.05. With
  /// `percent`, for ticks written as percentages (a step of 0.05 is 5%, no decimals).
  func decimals(percent: Bool = false) -> Int {
    max(0, -Int(floor(log10(step * (percent ? 100 : 1)) + 1e-9)))
  }

  /// Where `value` falls on an axis drawn from `start` (at `lower`) to `end` (at `upper`).
  func position(of value: Double, from start: Double, to end: Double) -> Double {
    start + (value - lower) / (upper - lower) * (end - start)
  }
}
