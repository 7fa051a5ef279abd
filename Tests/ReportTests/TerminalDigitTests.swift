import Testing

@testable import Report

@Suite struct TerminalDigitTests {
  /// 4×4, rows top to bottom: a full row, a left half, a right half, a faint row.
  let pattern: [UInt8] = [
    255, 255, 255, 255,
    255, 255, 0, 0,
    0, 0, 200, 200,
    60, 60, 60, 60,
  ]

  @Test func halfBlocks_pairRowsIntoUpperAndLowerHalves() {
    #expect(TerminalDigit.render(pixels: pattern, width: 4, height: 4) == [
      "██▀▀",
      "  ▀▀",
    ])
  }

  @Test func threshold_decidesWhichPixelsAreInk() {
    #expect(TerminalDigit.render(pixels: pattern, width: 4, height: 4, style: .halfBlocks(threshold: 50)) == [
      "██▀▀",
      "▄▄██",
    ])
  }

  @Test func shades_averageEachPairOfRows() {
    // Means: (255+255)/2 = 255 → █; (255+0)/2 = 127 → ▒; (0+60)/2 = 30 → space; (200+60)/2 = 130 → ▒.
    #expect(TerminalDigit.render(pixels: pattern, width: 4, height: 4, style: .shades) == [
      "██▒▒",
      "  ▒▒",
    ])
  }

  @Test func oddHeight_treatsTheMissingLastRowAsBlank() {
    #expect(TerminalDigit.render(pixels: [255, 0, 255, 255, 0, 255], width: 2, height: 3) == ["█▄", " ▀"])
  }

  @Test func fullDigit_is14LinesOf28Columns() {
    let lines = TerminalDigit.render(pixels: [UInt8](repeating: 0, count: 784))
    #expect(lines.count == 14)
    #expect(lines.allSatisfy { $0.count == 28 })
  }

  @Test func sideBySide_alignsDigitsAndCaptions() {
    let panels = [
      TerminalDigit.Panel(pixels: pattern, caption: "7"),
      TerminalDigit.Panel(pixels: [UInt8](repeating: 255, count: 16), caption: "1  (99.2%)"),
    ]
    #expect(TerminalDigit.sideBySide(panels, width: 4, height: 4, gap: 1) == [
      "██▀▀ ████      ",
      "  ▀▀ ████      ",
      "7    1  (99.2%)",
    ])
  }

  @Test func caption_showsLabelAndProbability() {
    #expect(TerminalDigit.caption(label: 7, probability: 0.99213) == "7  (99.2%)")
  }
}
