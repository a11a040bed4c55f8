import Foundation

/// Reads a child's output pipe to its end, then closes the read end.
///
/// Closed here, not left to the `Pipe`'s deinit: Foundation on Linux keeps a finished `Process` (and so
/// its pipes) alive, and a test run leaked both read ends of every child it started (1,900 descriptors
/// by its end). Past about 1,350 open descriptors the listing of /proc/self/fd fills glibc's 32 KB
/// readdir buffer, where `Process.run()` in this toolchain reads 256 bytes past a directory entry
/// (swift-corelibs-foundation#5472) and, now and then, past the buffer's end: the test process crashed
/// with SIGSEGV in `Process.run()`.
public func drain(_ pipe: Pipe) -> Data {
    let handle = pipe.fileHandleForReading
    let data = handle.readDataToEndOfFile()
    try? handle.close()
    return data
}
