import ArgumentParser
import Foundation
import Machine
import Pipeline

extension PipelineCommand {
  /// What the pipeline runs on, and whether OpenBLAS runs the kernels this CPU deserves.
  struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the CPU, OpenBLAS and the kernels it runs (and why), the threads, Swift and libarchive.",
      discussion: """
        Like `run`, it first checks the kernels OpenBLAS picked against the CPU's vector extensions: \
        when OpenBLAS fell back to kernels narrower than the CPU's (Debian 12's OpenBLAS 0.3.21 does on \
        Intel Xeons of 2023 and later) and OPENBLAS_CORETYPE is not set, it starts again with \
        OPENBLAS_CORETYPE set to the best kernels for the CPU, and says so. A user's own \
        OPENBLAS_CORETYPE is always kept, and the kernels line says when the CPU could run wider \
        ones; only one that names kernels wider than the CPU's vectors stops the program, before \
        OpenBLAS dies on an illegal instruction.
        """)

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @Flag(help: "Print only the name of the kernels in use (for scripts: `make test` runs the tests on them).")
    var coreType = false

    func validate() throws {
      guard !(json && coreType) else { throw ValidationError("--json and --core-type print different things; give one") }
    }

    func run() throws {
      let choice = try failing { try ProcessSetup.prepareForNumericWork(log: ConsoleReporter.printError) }
      let summary = MachineSummary.current(kernelChoice: choice)
      if coreType {
        print(summary.kernel)
      } else if json {
        print(try readableJSON(summary))
      } else {
        summary.lines.forEach { print($0) }
      }
    }
  }
}
