import Testing
@testable import Pipeline

@Suite struct SweepTests {
  @Test func points_areTheGridWithTheFirstKeyVaryingSlowest() throws {
    #expect(try Sweep.points(["train.epochs=10,20,30", "seed=42,43", "name=x"]) == [
      ["train.epochs=10", "seed=42", "name=x"], ["train.epochs=10", "seed=43", "name=x"],
      ["train.epochs=20", "seed=42", "name=x"], ["train.epochs=20", "seed=43", "name=x"],
      ["train.epochs=30", "seed=42", "name=x"], ["train.epochs=30", "seed=43", "name=x"],
    ])
  }

  @Test func commasInsideAListAMappingOrQuotes_doNotSplit() throws {
    let one = ["train.model.layers=[{dense: 10}, relu, {dense: 10}]", "name=\"a,b\"", "x={a: 1, b: 2}", "y='c,d'"]
    #expect(try Sweep.points(one) == [one])
    #expect(try Sweep.points(["layers=[1, 2],[3]"]) == [["layers=[1, 2]"], ["layers=[3]"]])
    #expect(try Sweep.points(["train.epochs= 10 , 20"]) == [["train.epochs=10"], ["train.epochs=20"]])
  }

  @Test func noOverridesIsOnePoint_andAnEmptyValueIsAnError() throws {
    #expect(try Sweep.points([]) == [[]])
    #expect(try Sweep.points(["malformed"]) == [["malformed"]])  // left for PipelineFile to report
    #expect(throws: PipelineError.self) { try Sweep.points(["train.epochs=10,,30"]) }
  }
}
