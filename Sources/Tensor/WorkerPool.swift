import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - The threads the kernels share

/// Threads that stay awake between kernel calls, so that a call split over them starts at once.
///
/// A training step makes a handful of parallel kernel calls (the products, the elementwise
/// kernels, the optimizer) a few hundred microseconds apart. Through Dispatch, each call woke a
/// thread that had gone to sleep, and on a virtual machine such a thread starts tens of
/// microseconds late: its virtual CPU was handed back to the host while it slept. So after each
/// call the pool's threads poll for the next one for `spinLimit`, yielding the core to any other
/// runnable thread while they poll, and only then sleep, as OpenMP runtimes and OpenBLAS's own
/// threads do (`digits-bench dispatch` measures both ways; README, "Where the time goes").
///
/// The calling thread works too, so a call of `width` asks `width - 1` pool threads, and the
/// others are left alone. The pool runs one call at a time. A call made while another runs, such
/// as a kernel inside a kernel's iteration or two callers on different threads, runs its
/// iterations in order on its own thread. Which thread runs an iteration never changes a result:
/// each kernel's split depends only on its iteration count (see `forEachPart`).
final class WorkerPool: @unchecked Sendable {
  /// The process's pool; its threads start with the first call that needs them.
  static let shared = WorkerPool()

  private init() {}

  /// How long a pool thread polls for the next call before it sleeps: longer than the serial
  /// gaps of a training step, short enough that an idle process is soon idle.
  static let spinLimit = Duration.microseconds(200)

  /// One per pool thread; grows with the calls that need more. Only the call holding `busy`
  /// touches it (`busy`'s acquire and release order one holder's changes before the next's).
  private var threads: [PoolThread] = []
  /// Set while a call runs.
  private let busy = Atomic<Bool>(false)
  /// Pool threads handed the current call that have not yet let go of it (a thread whose mailbox
  /// the caller empties again counts as having let go).
  private let holders = Atomic<Int>(0)

  /// Runs `body(i)` for every `i` in `0..<iterations`, on the calling thread and up to
  /// `width - 1` pool threads, each taking the next iteration as it comes free; returns when all
  /// have run, and every thread's writes are visible to the caller.
  func perform(iterations: Int, width: Int, _ body: @Sendable (Int) -> Void) {
    let helpers = min(iterations, width) - 1
    guard helpers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
      for i in 0..<iterations { body(i) }
      return
    }
    defer { busy.store(false, ordering: .releasing) }
    // `body` is kept by the call's `Job` only until every thread has let go of it.
    withoutActuallyEscaping(body) { body in
      let job = Job(iterations: iterations, body: body)
      while threads.count < helpers { threads.append(PoolThread(pool: self, index: threads.count)) }
      let asked = threads[..<helpers]
      holders.store(helpers, ordering: .relaxed)
      for thread in asked { thread.hand(job) }
      job.work()
      // A thread that has not taken the call yet (asleep, or not yet scheduled) is not waited
      // for: every iteration has been taken, so it gets its mailbox emptied instead.
      for thread in asked where thread.takeBack(job) { release() }
      while holders.load(ordering: .acquiring) > 0 { sched_yield() }
    }
  }

  /// Called by a pool thread once it no longer refers to the call it was handed.
  fileprivate func release() { holders.wrappingSubtract(1, ordering: .releasing) }

  /// One call's iterations, handed out one at a time to whichever thread asks next.
  fileprivate final class Job: @unchecked Sendable {
    let iterations: Int
    let body: @Sendable (Int) -> Void
    let next = Atomic<Int>(0)

    init(iterations: Int, body: @escaping @Sendable (Int) -> Void) { (self.iterations, self.body) = (iterations, body) }

    func work() {
      while true {
        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
        if i >= iterations { return }
        body(i)
      }
    }
  }
}

/// A pool thread and its mailbox: the call it was handed, if any.
private final class PoolThread: @unchecked Sendable {
  private unowned let pool: WorkerPool
  private let condition = NSCondition()
  /// Under `condition`.
  private var job: WorkerPool.Job?
  /// Whether `job` is set, for polling without the lock.
  private let handed = Atomic<Bool>(false)

  init(pool: WorkerPool, index: Int) {
    self.pool = pool
    let thread = Thread { [self] in run() }
    thread.name = "digits-worker-\(index + 1)"  // as `top -H` and `perf` show it
    thread.start()
  }

  func hand(_ job: WorkerPool.Job) {
    condition.withLock {
      self.job = job
      handed.store(true, ordering: .releasing)
      condition.signal()
    }
  }

  /// Empties the mailbox if it still holds `job`, untaken; whether it did.
  func takeBack(_ job: WorkerPool.Job) -> Bool {
    condition.withLock {
      guard self.job === job else { return false }
      self.job = nil
      handed.store(false, ordering: .relaxed)
      return true
    }
  }

  private func run() {
    let clock = ContinuousClock()
    while true {
      let start = clock.now
      while !handed.load(ordering: .acquiring) && start.duration(to: clock.now) < WorkerPool.spinLimit {
        sched_yield()
      }
      work()
      pool.release()
    }
  }

  /// Waits for a call, works on it, and lets go of it as this frame ends, before `run`
  /// reports the release.
  @inline(never)
  private func work() {
    let job = condition.withLock { () -> WorkerPool.Job in
      while self.job == nil { condition.wait() }
      let job = self.job!
      self.job = nil
      handed.store(false, ordering: .relaxed)
      return job
    }
    job.work()
  }
}
