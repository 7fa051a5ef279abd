import Dispatch
import Foundation
import Pipeline

/// Ctrl-C and SIGTERM: remove what the run was building, say so, and exit at once.
///
/// The stage runs on the main thread and may be deep in a GEMM, so the signal is taken on a
/// dispatch queue instead, which cleans up and ends the process with `_exit`: nothing else of
/// the run (a half-trained model, a half-copied file) gets the chance to land. The cache needs no
/// other repair, since an entry only exists once its folder has been renamed into place, and the
/// output lock is an flock that the kernel drops with the process.
enum Interruption {
  /// Kept alive for the life of the process.
  nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

  static func install(removing scratch: ScratchRegistry) {
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber, SIG_IGN)  // let the dispatch source, not the default action, see it
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global(qos: .userInitiated))
      source.setEventHandler {
        let removed = scratch.removeAll()
        let name = signalNumber == SIGINT ? "interrupted" : "terminated"
        let note = removed.isEmpty ? "" : "; removed \(removed.count) temporary item(s), the cache is as it was"
        FileHandle.standardError.write(Data("\n\(name)\(note)\n".utf8))
        _exit(128 + signalNumber)
      }
      source.resume()
      sources.append(source)
    }
  }
}
