/// Digits drawn in a terminal with Unicode block characters, for the command line's "what did the
/// model get wrong" summary where an HTML file is too far away.
public enum TerminalDigit {
  /// How pixels become characters.
  public enum Style: Sendable, Equatable {
    /// Each character is two pixels stacked: `▀` top only, `▄` bottom only, `█` both, space
    /// neither; a pixel is ink when it is at least `threshold`. Sharpest at full resolution.
    case halfBlocks(threshold: UInt8)
    /// Each character is the mean of two stacked pixels as one of ` ░▒▓█`: keeps faint strokes
    /// that a threshold would drop, at half the vertical detail.
    case shades
  }

  /// The digit as `ceil(height / 2)` lines of exactly `width` characters (trailing spaces kept,
  /// so digits can be laid side by side). A missing last row of an odd height counts as blank.
  ///
  /// - Precondition: `pixels.count == width * height`.
  public static func render(
    pixels: [UInt8], width: Int = 28, height: Int = 28, style: Style = .halfBlocks(threshold: 128)
  ) -> [String] {
    precondition(pixels.count == width * height, "\(pixels.count) pixels for a \(width)×\(height) digit")
    func pixel(_ x: Int, _ y: Int) -> UInt8 { y < height ? pixels[y * width + x] : 0 }
    return stride(from: 0, to: height, by: 2).map { top in
      String((0..<width).map { x -> Character in
        let upper = pixel(x, top)
        let lower = pixel(x, top + 1)
        switch style {
        case .halfBlocks(let threshold):
          switch (upper >= threshold, lower >= threshold) {
          case (true, true): return "█"
          case (true, false): return "▀"
          case (false, true): return "▄"
          case (false, false): return " "
          }
        case .shades:
          // Five levels over 0...255: the mean's fifth, rounded down, with 255 reaching the top.
          let mean = (Int(upper) + Int(lower)) / 2
          return shadeRamp[min(mean * shadeRamp.count / 256, shadeRamp.count - 1)]
        }
      })
    }
  }

  private static let shadeRamp: [Character] = [" ", "░", "▒", "▓", "█"]

  /// One digit and the text to print under it.
  public struct Panel: Sendable, Equatable {
    public var pixels: [UInt8]
    public var caption: String

    public init(pixels: [UInt8], caption: String) {
      self.pixels = pixels
      self.caption = caption
    }
  }

  /// Several digits side by side, `gap` spaces apart, each with its caption on the line below.
  /// Every column is as wide as the wider of the digit and its caption, so columns stay aligned.
  public static func sideBySide(
    _ panels: [Panel], width: Int = 28, height: Int = 28, gap: Int = 2,
    style: Style = .halfBlocks(threshold: 128)
  ) -> [String] {
    guard !panels.isEmpty else { return [] }
    let columns = panels.map { panel -> [String] in
      let columnWidth = max(width, panel.caption.count)
      let art = render(pixels: panel.pixels, width: width, height: height, style: style)
      return (art + [panel.caption]).map { $0.padding(to: columnWidth) }
    }
    let separator = String(repeating: " ", count: gap)
    return columns[0].indices.map { line in
      columns.map { $0[line] }.joined(separator: separator)
    }
  }

  /// The usual caption: the label and the probability the model gave it, e.g. `7  (99.2%)`.
  public static func caption(label: Int, probability: Double) -> String {
    "\(label)  (\(Format.percent(probability, decimals: 1)))"
  }
}

extension String {
  /// Padded with spaces on the right to `length` characters (never truncated).
  func padding(to length: Int) -> String {
    count >= length ? self : self + String(repeating: " ", count: length - count)
  }
}
