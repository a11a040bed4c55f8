#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered byte destination for the row writers: a file descriptor behind a 64 KB buffer, or memory.
///
/// Writers append small pieces (a cell, a separator); one `write(2)` per 64 KB keeps a million-row
/// export at a few thousand system calls, where `print` would make one or more per row.
/// The descriptor is not closed here: whoever opened it owns it.
public final class OutputSink {
    public static let bufferSize = 64 * 1024

    private enum Destination {
        case fileDescriptor(Int32)
        case memory
    }

    private let destination: Destination
    private var buffer: [UInt8] = []

    /// Writes to an open descriptor (for example `STDOUT_FILENO` or an `AtomicOutputFile`'s).
    public init(fileDescriptor: Int32) {
        destination = .fileDescriptor(fileDescriptor)
        buffer.reserveCapacity(OutputSink.bufferSize)
    }

    /// Collects everything in memory (`bytes`); for library callers that want the output as a value.
    public init() {
        destination = .memory
    }

    /// Everything written so far, for a memory sink; empty for a descriptor sink.
    public var bytes: [UInt8] {
        if case .memory = destination { return buffer }
        return []
    }

    @inline(__always)
    public func write(_ byte: UInt8) throws {
        buffer.append(byte)
        if buffer.count >= OutputSink.bufferSize { try drainIfDescriptor() }
    }

    public func write<C: Collection<UInt8>>(_ bytes: C) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= OutputSink.bufferSize { try drainIfDescriptor() }
    }

    public func write(_ string: String) throws {
        buffer.append(contentsOf: string.utf8)
        if buffer.count >= OutputSink.bufferSize { try drainIfDescriptor() }
    }

    /// Writes out everything buffered (a descriptor sink); a memory sink keeps its bytes.
    public func flush() throws {
        try drainIfDescriptor()
    }

    private func drainIfDescriptor() throws {
        guard case .fileDescriptor(let descriptor) = destination, !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = systemWrite(descriptor, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw OutputError(operation: "write output", errno: errno)
                }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(descriptor, bytes, count)
    #elseif canImport(Musl)
    return Musl.write(descriptor, bytes, count)
    #else
    return Darwin.write(descriptor, bytes, count)
    #endif
}

/// A failed system call while writing output (disk full, broken pipe, permission), in one line.
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let errno: Int32
    public let path: String?

    public init(operation: String, errno: Int32, path: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.path = path
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        if let path { return "cannot \(operation) \(path): \(reason)" }
        return "cannot \(operation): \(reason)"
    }
}
