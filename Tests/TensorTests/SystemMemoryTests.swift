import Testing
import Tensor

@Suite struct SystemMemoryTests {
  @Test func parse_prefersMemAvailable_thenMemTotal() {
    let meminfo = "MemTotal:       24684084 kB\nMemFree:        21568060 kB\nMemAvailable:   24139748 kB\n"
    #expect(SystemMemory.parse(meminfo: meminfo) == SystemMemory(bytes: 24139748 * 1024, source: "MemAvailable in /proc/meminfo"))
    let old = "MemTotal:        2048000 kB\nMemFree:          100000 kB\n"
    #expect(SystemMemory.parse(meminfo: old) == SystemMemory(bytes: 2048000 * 1024, source: "MemTotal in /proc/meminfo"))
    #expect(SystemMemory.parse(meminfo: "nothing here") == nil)
  }

  #if os(Linux)
    @Test func current_readsThisMachine() throws {
      let memory = try #require(SystemMemory.current())
      #expect(memory.bytes > 64 * 1_048_576)
    }
  #endif
}
