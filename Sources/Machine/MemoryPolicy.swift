#if canImport(Glibc)
  import CMalloc
#endif

// MARK: - Keeping freed blocks for the next batch

/// How the C allocator treats the large buffers a network's passes allocate and free every batch.
///
/// glibc hands every block above its mmap threshold (128 KiB, raised as big blocks are freed, to
/// at most 32 MiB) to the kernel and returns it on free, so a batch's activations (12 MB for
/// 32 channels of 28×28 over 128 images, 100 MB over the 1,000 images of an inference batch) come
/// back every time as fresh pages that the kernel must fault in and zero. Raising the threshold
/// above the largest such buffer, and the trim threshold with it (glibc otherwise returns the
/// heap's free top as soon as it passes 128 KiB), keeps them in the heap for reuse. Peak memory
/// is what the largest batch needs either way.
public enum MemoryPolicy {
  /// Blocks up to this size come from the heap: above an inference batch's largest activation.
  public static let mmapThreshold = 256 << 20
  /// Free memory at the top of the heap is returned to the system only past this.
  public static let trimThreshold = 1 << 30

  /// Applies the thresholds to this process (glibc only; elsewhere the allocator is left alone).
  /// Returns whether both were accepted.
  @discardableResult
  public static func keepFreedBlocks() -> Bool {
    #if canImport(Glibc)
      return mallopt(M_MMAP_THRESHOLD, Int32(mmapThreshold)) == 1 && mallopt(M_TRIM_THRESHOLD, Int32(trimThreshold)) == 1
    #else
      return false
    #endif
  }
}
